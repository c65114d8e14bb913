/** Configuration files: parsing with positions, interpolation, environment overrides, validation, the CLI. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { CONFIG_SCHEMA, type JsonSchema } from '../src/config/config-schema.js';
import { resolveAuditOptions } from '../src/observability/audit-log.js';
import { resolveHealthOptions } from '../src/observability/health.js';
import { resolveMetricsOptions } from '../src/observability/metrics.js';
import { DEFAULTS, resolveOptions } from '../src/server/options.js';
import { Authorizer } from '../src/security/authorization.js';
import { resolveTrustProxy } from '../src/security/client-ip.js';
import { CorsPolicy } from '../src/security/cors.js';
import { JwtVerifier } from '../src/security/jwt-verifier.js';
import { resolveRateLimitOptions } from '../src/security/rate-limit.js';
import {
  ConfigError,
  configToServe,
  ENVIRONMENT_OVERRIDES,
  loadConfigFile,
  parseConfigText,
  type ConfigProblem,
} from '../src/config/load-config.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const CONFIG_COMMAND = fileURLToPath(new URL('../src/cli/config-command.js', import.meta.url));
const REQUEST_STATE_KEY = 'k'.repeat(32);

/** A fresh directory per test, removed after it. */
function scratch(t: TestContext): (name: string, text: string) => string {
  const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return (name, text) => {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
}

/** The ConfigError a promise rejects with (anything else fails the test). */
async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

const problemsOf = async (promise: Promise<unknown>): Promise<ConfigProblem[]> =>
  (await configErrorOf(promise)).problems;
const messageOf = async (promise: Promise<unknown>): Promise<string> => (await configErrorOf(promise)).message;

// --- The example and the schema -------------------------------------------------------------------------------

/** Dotted keys the schema defines that `value` lacks. Mutually exclusive alternatives (oneOf) need only one. */
function missingKeys(schema: JsonSchema, value: unknown, path: string): string[] {
  const missing: string[] = [];
  const object =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  const exclusive = (schema.oneOf ?? []).filter(
    (branch) => branch.required !== undefined && branch.properties === undefined && branch.type === undefined,
  );
  const alternatives = new Set(exclusive.flatMap((branch) => branch.required!));
  if (exclusive.length > 0 && ![...alternatives].some((name) => object !== undefined && name in object))
    missing.push(`${path}.(${[...alternatives].join('|')})`);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const key = path === '' ? name : `${path}.${name}`;
    if (object === undefined || !(name in object)) {
      if (!alternatives.has(name)) missing.push(key);
      continue;
    }
    missing.push(...missingKeys(property, object[name], key));
  }
  // A value that is one of several shapes: check the shape it has.
  const branches = [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].filter(
    (branch) => branch.properties !== undefined,
  );
  if (object !== undefined && branches.length > 0) {
    const taken = branches.find((branch) => Object.keys(object).every((name) => name in branch.properties!));
    assert.ok(taken, `${path}: no shape of the schema fits the example`);
    missing.push(...missingKeys(taken, object, path));
  }
  return missing;
}

function allProperties(schema: JsonSchema, path: string, visit: (key: string, property: JsonSchema) => void): void {
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const key = path === '' ? name : `${path}.${name}`;
    visit(key, property);
    allProperties(property, key, visit);
  }
  for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) allProperties(branch, path, visit);
}

test('the example YAML loads, validates and sets every key of the schema', async () => {
  const loaded = await loadConfigFile(join(EXAMPLES, 'remote-mcp.yaml'), {
    REMOTE_MCP_REQUEST_STATE_KEY: REQUEST_STATE_KEY,
  });
  assert.equal(loaded.directory, EXAMPLES.replace(/\/$/, ''));
  assert.equal(loaded.config.module, '../build/examples/demo-server.js');
  assert.deepEqual(missingKeys(CONFIG_SCHEMA, loaded.config, ''), []);
  // Alternatives it cannot set at once (tls.certFile, auth.jwt.secret...) are still documented, in comments.
  const text = readFileSync(join(EXAMPLES, 'remote-mcp.yaml'), 'utf8');
  allProperties(CONFIG_SCHEMA, '', (key) =>
    assert.ok(text.includes(`${key.split('.').pop()}:`), `examples/remote-mcp.yaml does not mention ${key}`),
  );
  const plan = await configToServe(loaded);
  assert.equal(plan.modulePath, join(EXAMPLES, '..', 'build', 'examples', 'demo-server.js'));
  assert.deepEqual(plan.listen, { port: 8080, host: '127.0.0.1', tls: { selfSigned: true } });
});

test("the example's options are accepted by the library's own validation", async () => {
  const plan = await configToServe(
    await loadConfigFile(join(EXAMPLES, 'remote-mcp.yaml'), { REMOTE_MCP_REQUEST_STATE_KEY: REQUEST_STATE_KEY }),
  );
  const options = resolveOptions({ server: () => assert.fail('not called'), ...plan.options });
  assert.ok(resolveHealthOptions(options.health));
  assert.ok(resolveMetricsOptions(options.metrics));
  new JwtVerifier(options.auth!.jwt!);
  new Authorizer(options.authorization!);
  new CorsPolicy(options.cors!);
  assert.ok(resolveRateLimitOptions(options.rateLimits));
  assert.ok(resolveAuditOptions(options.audit));
  assert.equal(resolveTrustProxy(options.trustProxy).kind, 'list');
});

test('the example YAML refuses to run without its requestStateKey variable, naming it and where', async () => {
  const file = join(EXAMPLES, 'remote-mcp.yaml');
  const line =
    readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((text) => text.startsWith('requestStateKey:')) + 1;
  assert.deepEqual(await problemsOf(loadConfigFile(file, {})), [
    {
      file,
      line,
      column: 18,
      key: 'requestStateKey',
      message:
        'references the environment variable REMOTE_MCP_REQUEST_STATE_KEY, which is not set (set it, or write ${REMOTE_MCP_REQUEST_STATE_KEY:-<fallback>})',
    },
  ]);
});

test('the example JSON loads', async () => {
  const loaded = await loadConfigFile(join(EXAMPLES, 'remote-mcp.json'), {});
  assert.deepEqual(loaded.config, {
    module: '../build/examples/demo-server.js',
    port: 8080,
    host: '127.0.0.1',
    path: '/mcp',
    maxBodyBytes: 1048576,
    health: { path: '/health', readyPath: '/ready' },
    metrics: true,
    log: { level: 'info', destination: 'stderr' },
  });
});

test('every property of the schema has a one-line description', () => {
  allProperties(CONFIG_SCHEMA, '', (key, property) => {
    assert.equal(typeof property.description, 'string', `${key} has no description`);
    assert.ok(!property.description!.includes('\n'), `${key}'s description is not one line`);
  });
});

// --- Validation problems with positions -----------------------------------------------------------------------

test('a wrong type is reported at its line and column with the expected and received values', async (t) => {
  const file = scratch(t)('remote-mcp.yaml', 'module: ./server.js\nport: eighty\nlegacy: "no"\n');
  assert.equal(
    await messageOf(loadConfigFile(file, {})),
    `${file}:2:7: \`port\` expected an integer from 0 to 65535; received the string "eighty"\n` +
      `${file}:3:9: \`legacy\` expected true or false; received the string "no"`,
  );
});

test('JSON files get positions too', async (t) => {
  const file = scratch(t)('remote-mcp.json', '{\n  "module": "./server.js",\n  "maxBodyBytes": 0\n}\n');
  assert.deepEqual(await problemsOf(loadConfigFile(file, {})), [
    { file, line: 3, column: 19, key: 'maxBodyBytes', message: 'expected an integer >= 1; received 0' },
  ]);
});

test('an unknown key is reported at the key, with the closest known key', async (t) => {
  const file = scratch(t)(
    'remote-mcp.yaml',
    'module: ./server.js\nmaxBodyByte: 1000\ncors:\n  allowedOrigins: [https://a.example]\n  maxAge: 60\n',
  );
  const problems = await problemsOf(loadConfigFile(file, {}));
  assert.deepEqual(
    problems.map(({ line, column, key }) => ({ line, column, key })),
    [
      { line: 2, column: 1, key: 'maxBodyByte' },
      { line: 5, column: 3, key: 'cors.maxAge' },
    ],
  );
  assert.match(
    problems[0]!.message,
    /^is not a known key \(did you mean `maxBodyBytes`\?\); known keys: module, export, port, /,
  );
  assert.equal(
    problems[1]!.message,
    'is not a known key; known keys of `cors`: allowedOrigins, allowCredentials, maxAgeSeconds',
  );
});

test('a missing required key is reported at the object that lacks it', async (t) => {
  const file = scratch(t)('remote-mcp.yaml', 'port: 8080\ntls:\n  certFile: cert.pem\n');
  assert.deepEqual(await problemsOf(loadConfigFile(file, {})), [
    {
      file,
      line: 1,
      column: 1,
      key: '',
      message: 'expected exactly one of `module`, `stdio` or `upstream`; received none',
    },
    {
      file,
      line: 3,
      column: 3,
      key: 'tls.keyFile',
      message:
        "is required but missing: expected a non-empty string (PEM private key file, relative to the config file's directory)",
    },
  ]);
});

test('oneOf/anyOf failures are one readable problem', async (t) => {
  const write = scratch(t);
  const file = write(
    'remote-mcp.yaml',
    [
      'module: ./server.js',
      'trustProxy: sometimes',
      'metrics:',
      '  port: "9464"',
      'auth:',
      '  jwt:',
      '    jwksUrl: https://auth.example/jwks',
      '    secret: 0123456789abcdef0123456789abcdef',
      '    issuer: https://auth.example',
      '    audience: []',
      'rateLimits: {}',
      '',
    ].join('\n'),
  );
  assert.deepEqual(await problemsOf(loadConfigFile(file, {})), [
    {
      file,
      line: 2,
      column: 13,
      key: 'trustProxy',
      message:
        'expected true or false, an integer >= 1 or a non-empty list of strings; received the string "sometimes"',
    },
    {
      file,
      line: 4,
      column: 9,
      key: 'metrics.port',
      message: 'expected an integer from 0 to 65535; received the string "9464"',
    },
    {
      file,
      line: 7,
      column: 5,
      key: 'auth.jwt',
      message: 'expected exactly one of `secret`, `publicKey` or `jwksUrl`; received `secret` and `jwksUrl`',
    },
    {
      file,
      line: 10,
      column: 15,
      key: 'auth.jwt.audience',
      message: 'expected a non-empty list of strings; received a list of 0 items',
    },
    {
      file,
      line: 11,
      column: 13,
      key: 'rateLimits',
      message: 'expected at least one of `perPrincipal` or `global`; received none',
    },
  ]);
});

// --- Parsing and interpolation --------------------------------------------------------------------------------

test('${VAR}, ${VAR:-fallback} and $${ in string values', () => {
  const text = [
    'a: ${NAME}',
    'b: pre-${NAME}-post',
    'c: ${UNSET:-fallback}',
    'd: ${EMPTY:-used when empty}',
    'e: ${EMPTY}',
    'f: $${NAME} costs $5',
    'g: ["${NAME}"]',
    'h:',
    '  - ${NAME}',
    '',
  ].join('\n');
  assert.deepEqual(parseConfigText(text, 'x.yaml', { NAME: 'value', EMPTY: '' }), {
    a: 'value',
    b: 'pre-value-post',
    c: 'fallback',
    d: 'used when empty',
    e: '',
    f: '${NAME} costs $5',
    g: ['value'],
    h: ['value'],
  });
});

test('an interpolated value takes the type the schema wants', async (t) => {
  const file = scratch(t)(
    'remote-mcp.yaml',
    'module: ./server.js\nport: ${PORT:-8080}\nhost: ${HOST}\nlegacy: ${LEGACY}\n',
  );
  const { config } = await loadConfigFile(file, { PORT: '9000', HOST: '1234', LEGACY: 'false' });
  assert.deepEqual(config, { module: './server.js', port: 9000, host: '1234', legacy: false });
});

test('an unset variable without fallback is an error naming the key, the variable and the position', async (t) => {
  const file = scratch(t)(
    'remote-mcp.yaml',
    'module: ./server.js\nauth:\n  jwt:\n    secret: "prefix-${JWT_SECRET}"\n    issuer: a\n    audience: b\n',
  );
  assert.equal(
    await messageOf(loadConfigFile(file, {})),
    `${file}:4:21: \`auth.jwt.secret\` references the environment variable JWT_SECRET, which is not set (set it, or write \${JWT_SECRET:-<fallback>})`,
  );
});

test('a duplicate key is an error at its second occurrence', async (t) => {
  const file = scratch(t)('remote-mcp.yaml', 'module: ./server.js\nlog:\n  level: info\n  level: debug\n');
  assert.equal(
    await messageOf(loadConfigFile(file, {})),
    `${file}:4:3: \`log.level\` is defined twice (first at line 3, column 3)`,
  );
});

test('a YAML syntax error is reported with its position', async (t) => {
  const file = scratch(t)('remote-mcp.yaml', 'module: ./server.js\nport: 8080\n  host: x\n');
  assert.equal(
    await messageOf(loadConfigFile(file, {})),
    `${file}:2:7: is not valid YAML or JSON: Nested mappings are not allowed in compact mappings`,
  );
});

test('an empty file and a missing file are errors', async (t) => {
  const file = scratch(t)('remote-mcp.yaml', '# nothing\n');
  assert.equal(
    await messageOf(loadConfigFile(file, {})),
    `${file}:1:1: is empty: expected a mapping of keys to values, with at least \`module\` (or \`stdio\` or \`upstream\`)`,
  );
  const missing = join(dirname(file), 'nope.yaml');
  assert.match(await messageOf(loadConfigFile(missing, {})), new RegExp(`^${missing}: cannot be read: ENOENT`));
});

test('a __proto__ key is an unknown key, not a prototype', async (t) => {
  const file = scratch(t)('remote-mcp.yaml', 'module: ./server.js\n__proto__:\n  polluted: true\n');
  const problems = await problemsOf(loadConfigFile(file, {}));
  assert.deepEqual(
    problems.map(({ line, key }) => ({ line, key })),
    [{ line: 2, key: '__proto__' }],
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

// --- Environment overrides ------------------------------------------------------------------------------------

test('REMOTE_MCP_* variables override the file, coerced to the schema type', async (t) => {
  const file = scratch(t)(
    'remote-mcp.yaml',
    'module: ./server.js\nport: 8080\nlegacy: true\nlog: { level: info, pretty: true }\n',
  );
  const { config } = await loadConfigFile(file, {
    REMOTE_MCP_PORT: '9000',
    REMOTE_MCP_LEGACY: 'false',
    REMOTE_MCP_MAX_BODY_BYTES: '1024',
    REMOTE_MCP_LOG_LEVEL: 'debug',
    REMOTE_MCP_METRICS_PORT: '9464',
    REMOTE_MCP_HOST: '',
  });
  assert.deepEqual(config, {
    module: './server.js',
    port: 9000,
    legacy: false,
    maxBodyBytes: 1024,
    log: { level: 'debug', pretty: true },
    metrics: { port: 9464 },
  });
  const variables = ENVIRONMENT_OVERRIDES.map((entry) => entry.variable);
  for (const variable of [
    'REMOTE_MCP_PORT',
    'REMOTE_MCP_HOST',
    'REMOTE_MCP_MAX_BODY_BYTES',
    'REMOTE_MCP_REQUEST_STATE_KEY',
    'REMOTE_MCP_LOG_LEVEL',
    'REMOTE_MCP_METRICS_PORT',
    'REMOTE_MCP_TRACING',
  ]) {
    assert.ok(variables.includes(variable), `ENVIRONMENT_OVERRIDES lacks ${variable}`);
  }
  assert.ok(
    !variables.includes('REMOTE_MCP_TRUST_PROXY') && !variables.includes('REMOTE_MCP_AUTH'),
    'only scalar keys are overridable',
  );
});

test('a REMOTE_MCP_* value that does not fit names the variable', async (t) => {
  const file = scratch(t)('remote-mcp.yaml', 'module: ./server.js\n');
  assert.equal(
    await messageOf(loadConfigFile(file, { REMOTE_MCP_PORT: 'abc' })),
    '$REMOTE_MCP_PORT: `port` expected an integer; received the string "abc"',
  );
  assert.equal(
    await messageOf(loadConfigFile(file, { REMOTE_MCP_PORT: '8080.5', REMOTE_MCP_LEGACY: 'yes' })),
    '$REMOTE_MCP_PORT: `port` expected an integer; received the string "8080.5"\n$REMOTE_MCP_LEGACY: `legacy` expected "true" or "false"; received the string "yes"',
  );
  assert.equal(
    await messageOf(loadConfigFile(file, { REMOTE_MCP_PORT: '70000' })),
    '$REMOTE_MCP_PORT: `port` expected an integer from 0 to 65535; received 70000',
  );
  assert.equal(
    await messageOf(loadConfigFile(file, { REMOTE_MCP_LOG_LEVEL: 'loud' })),
    '$REMOTE_MCP_LOG_LEVEL: `log.level` expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent"; received the string "loud"',
  );
});

// --- configToServe --------------------------------------------------------------------------------------------

test('configToServe resolves paths against the config file directory and reads the TLS files', async (t) => {
  const write = scratch(t);
  const server = write('app/server.js', 'export default () => {};\n');
  const cert = write('conf/tls/cert.pem', 'CERT');
  const key = write('conf/tls/key.pem', 'KEY');
  const file = write(
    'conf/remote-mcp.yaml',
    [
      'module: ../app/server.js',
      'export: factory',
      'port: 0',
      'tls: { certFile: tls/cert.pem, keyFile: ./tls/key.pem }',
      'maxSessions: 5',
      'auth: { apiKeys: { file: keys.json } }',
      'audit: { destination: logs/audit.log }',
      'log: { destination: ../logs/app.log, level: warn }',
      '',
    ].join('\n'),
  );
  const conf = dirname(file);
  const plan = await configToServe(await loadConfigFile(file, {}));
  assert.equal(plan.modulePath, server);
  assert.equal(plan.exportName, 'factory');
  assert.deepEqual(plan.listen, {
    port: 0,
    host: '127.0.0.1',
    tls: { cert: readFileSync(cert), key: readFileSync(key) },
  });
  assert.deepEqual(plan.options, {
    maxSessions: 5,
    auth: { apiKeys: { file: join(conf, 'keys.json') } },
    audit: { destination: join(conf, 'logs/audit.log') },
    log: { destination: join(conf, '../logs/app.log'), level: 'warn' },
  });
  const stdoutFile = write(
    'conf/stdout.yaml',
    'module: ../app/server.js\naudit: { destination: stdout }\nlog: { destination: stdout }\n',
  );
  assert.deepEqual((await configToServe(await loadConfigFile(stdoutFile, {}))).options, {
    audit: { destination: 'stdout' },
    log: { destination: 'stdout' },
  });
});

test('configToServe names the key of a missing TLS file or module', async (t) => {
  const write = scratch(t);
  write('server.js', 'export default () => {};\n');
  write('key.pem', 'KEY');
  const file = write('remote-mcp.yaml', 'module: ./server.js\ntls:\n  certFile: missing.pem\n  keyFile: key.pem\n');
  assert.equal(
    await messageOf(loadConfigFile(file, {}).then(configToServe)),
    `${file}:3:13: \`tls.certFile\` cannot be read: no such file ${join(dirname(file), 'missing.pem')}`,
  );
  const noModule = write('no-module.yaml', 'module: ./nope.js\n');
  assert.equal(
    await messageOf(loadConfigFile(noModule, {}).then(configToServe)),
    `${noModule}:1:9: \`module\` cannot be found: ${join(dirname(file), 'nope.js')}`,
  );
});

// --- remote-mcp config check / schema -------------------------------------------------------------------------

/** Runs `remote-mcp config <args>` in a child process (configCommand() as main.ts will mount it). */
async function runConfig(
  dir: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = join(dir, 'config-cli.mjs');
  writeFileSync(
    script,
    `import { configCommand } from ${JSON.stringify(CONFIG_COMMAND)};\nawait configCommand().parseAsync(process.argv);\n`,
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REMOTE_MCP_')));
  const child = spawn(process.execPath, [script, ...args], { cwd: dir, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

test('remote-mcp config check prints OK and what it would serve, or every problem with exit code 1', async (t) => {
  const write = scratch(t);
  const server = write('server.js', 'export default () => {};\n');
  const good = write('good.yaml', 'module: ./server.js\nport: 9000\npath: /v1/mcp\ntls: { selfSigned: true }\n');
  const dir = dirname(good);
  assert.deepEqual(await runConfig(dir, ['check', 'good.yaml']), {
    code: 0,
    stdout: `good.yaml: OK (4 keys)\nwould serve ${server} (export "default") at https://127.0.0.1:9000/v1/mcp\n`,
    stderr: '',
  });
  write('bad.yaml', 'module: ./server.js\nport: eighty\nmaxBodyByte: 1\n');
  const bad = await runConfig(dir, ['check', 'bad.yaml']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  const lines = bad.stderr.split('\n');
  assert.equal(lines[0], 'bad.yaml:2:7: `port` expected an integer from 0 to 65535; received the string "eighty"');
  assert.match(
    lines[1]!,
    /^bad\.yaml:3:1: `maxBodyByte` is not a known key \(did you mean `maxBodyBytes`\?\); known keys: /,
  );
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
});

test('remote-mcp config schema prints the JSON Schema', async (t) => {
  const dir = dirname(scratch(t)('placeholder', ''));
  const { code, stdout, stderr } = await runConfig(dir, ['schema']);
  assert.equal(code, 0);
  assert.equal(stderr, '');
  assert.deepEqual(JSON.parse(stdout), CONFIG_SCHEMA);
});

test('docs/configuration.md has a row for every top-level key and every environment variable', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');
  for (const key of Object.keys(CONFIG_SCHEMA.properties!))
    assert.ok(doc.includes(`| \`${key}\` |`), `docs/configuration.md has no row for ${key}`);
  for (const { variable, key } of ENVIRONMENT_OVERRIDES)
    assert.ok(doc.includes(`| \`${variable}\` | \`${key}\` |`), `docs/configuration.md has no row for ${variable}`);
});

test('every library option a file can express is a key of the schema (a new option needs its schema entry)', () => {
  // Not expressible in a file: the factory, the stores, the error hook.
  const structured = [
    'requestStateKey',
    'allowedHosts',
    'allowedOrigins',
    'auth',
    'authorization',
    'rateLimits',
    'trustProxy',
    'audit',
    'cors',
    'health',
    'metrics',
    'log',
  ];
  const properties = Object.keys(CONFIG_SCHEMA.properties ?? {});
  for (const option of [...Object.keys(DEFAULTS), ...structured])
    assert.ok(properties.includes(option), `CONFIG_SCHEMA has no property ${option}`);
});
