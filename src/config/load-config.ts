/**
 * Configuration files for `remote-mcp serve --config <file>`: YAML or JSON (JSON is YAML), `${VAR}` interpolation,
 * REMOTE_MCP_* environment overrides, and validation against CONFIG_SCHEMA. Every problem is reported with the
 * file position of the value at fault, all at once, so a file is fixed in one pass:
 *
 *   remote-mcp.yaml:3:7: `port` expected an integer from 0 to 65535; received the string "eighty"
 *
 * Precedence: built-in defaults < config file < environment variables < command-line flags (the CLI applies
 * its flags on top of what configToServe returns).
 *
 * @example
 *   const loaded = await loadConfigFile('remote-mcp.yaml');
 *   const { modulePath, exportName, options, listen } = await configToServe(loaded);
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';

import type { RemoteServerOptions } from '../server/options.js';
import { CONFIG_SCHEMA, type JsonSchema } from './config-schema.js';

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  /** The dotted key at fault (`auth.jwt.issuer[0]`); '' for the file as a whole. */
  key: string;
  message: string;
}

/** Every problem of a configuration, one per line: `<file>:<line>:<column>: \`<key>\` <message>`. */
export class ConfigError extends Error {
  readonly code = 'REMOTE_MCP_INVALID_CONFIG';

  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}: ${problem.key === '' ? '' : `\`${problem.key}\` `}${problem.message}`;
}

export interface Position {
  line: number;
  column: number;
}

/** Where each part of a parsed configuration came from. Keys are dotted keys as in ConfigProblem.key. */
export interface ConfigPositions {
  file: string;
  /** Where each value starts ('' is the document). */
  values: Map<string, Position>;
  /** Where each mapping key is written. */
  keys: Map<string, Position>;
  /** Values that contain `${VAR}` interpolation, by dotted key → path: coerced to the schema's type if it is not a string. */
  interpolated: Map<string, Path>;
  /** Values set by an environment variable: dotted key → variable name. */
  overrides: Map<string, string>;
}

type Path = Array<string | number>;

// ---------------------------------------------------------------------------------------------------------------
// The configuration as validated. Mirrors CONFIG_SCHEMA; the security shapes are RemoteServerOptions' own.

export interface JwtConfig {
  secret?: string;
  publicKey?: string;
  jwksUrl?: string;
  issuer: string | string[];
  audience: string | string[];
  algorithms?: string[];
  clockToleranceSeconds?: number;
  jwksCacheMaxAgeMs?: number;
  jwksTimeoutMs?: number;
}

export interface RateLimitWindowConfig {
  points: number;
  durationSeconds: number;
}

export interface ConfigFile {
  module: string;
  export?: string;
  port?: number;
  host?: string;
  tls?: { certFile: string; keyFile: string } | { selfSigned: true };
  path?: string;
  maxBodyBytes?: number;
  maxBatchLength?: number;
  responseMode?: 'auto' | 'json' | 'sse';
  keepAliveMs?: number;
  maxStreamBufferBytes?: number;
  requestStateKey?: string;
  requestStateTtlMs?: number;
  legacy?: boolean;
  legacySse?: boolean;
  websocket?: boolean;
  maxWebSocketConnections?: number;
  webSocketPingIntervalMs?: number;
  sessionIdleTimeoutMs?: number;
  maxSessions?: number;
  maxStreams?: number;
  maxEventsPerStream?: number;
  maxStreamsPerSession?: number;
  maxIdleLegacyInstances?: number;
  dnsRebindingProtection?: boolean;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  drainTimeoutMs?: number;
  drainRetryMs?: number;
  auth?: {
    jwt?: JwtConfig;
    apiKeys?: { file: string };
    resourceMetadata?: { resource?: string; authorizationServers?: string[]; scopesSupported?: string[]; resourceName?: string };
    requiredScopes?: string[];
  };
  authorization?: { tools?: Record<string, string[]>; resources?: Record<string, string[]>; prompts?: Record<string, string[]> };
  rateLimits?: { perPrincipal?: RateLimitWindowConfig; global?: RateLimitWindowConfig; toolCosts?: Record<string, number> };
  trustProxy?: boolean | number | string[];
  cors?: { allowedOrigins: string[]; allowCredentials?: boolean; maxAgeSeconds?: number };
  securityHeaders?: boolean;
  audit?: { destination?: string; includeArguments?: boolean; sensitiveArguments?: string[] };
  maxJsonDepth?: number;
  maxStringLength?: number;
  maxConcurrentRequestsPerPrincipal?: number;
  validateToolArguments?: boolean;
  health?: boolean | { path?: string; readyPath?: string; requireAuth?: boolean };
  metrics?: boolean | { path?: string; port?: number; host?: string; requireAuth?: boolean; defaultMetrics?: boolean };
  tracing?: boolean;
  log?: { level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; pretty?: boolean; destination?: string };
}

export interface LoadedConfig {
  /** Absolute path of the file. */
  file: string;
  /** Its directory: relative paths in the file are resolved against it. */
  directory: string;
  config: ConfigFile;
  positions: ConfigPositions;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys and values in messages

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `['auth', 'jwt', 'issuer', 0]` → `auth.jwt.issuer[0]`; keys that are not identifiers are quoted: `tools["admin_*"]`. */
export function dottedKey(path: Path): string {
  let key = '';
  for (const segment of path) {
    if (typeof segment === 'number') key += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) key += key === '' ? segment : `.${segment}`;
    else key += `[${JSON.stringify(segment)}]`;
  }
  return key;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const PATTERNS: Record<string, string> = {
  '^/[^?#]*$': 'a path starting with "/", without ? or #',
  '^https?://': 'an http(s) URL',
};

/** What a schema accepts, in words: "an integer from 0 to 65535", "an object { certFile, keyFile }". */
function describeSchema(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum !== undefined) return `one of ${schema.enum.map((value) => JSON.stringify(value)).join(', ')}`;
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches !== undefined && schema.type === undefined) return list(branches.map(describeSchema), 'or');
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const noun = schema.type === 'integer' ? 'an integer' : 'a number';
      if (schema.minimum !== undefined && schema.maximum !== undefined) return `${noun} from ${schema.minimum} to ${schema.maximum}`;
      return schema.minimum !== undefined ? `${noun} >= ${schema.minimum}` : noun;
    }
    case 'string':
      if (schema.pattern !== undefined) return PATTERNS[schema.pattern] ?? `a string matching /${schema.pattern}/`;
      return (schema.minLength ?? 0) > 1 ? `a string of at least ${schema.minLength} characters` : 'a non-empty string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return `a ${(schema.minItems ?? 0) > 0 ? 'non-empty ' : ''}list of ${schema.items?.enum !== undefined ? `values (${schema.items.enum.join(', ')})` : `${schema.items?.type ?? 'value'}s`}`;
    case 'object': {
      const keys = Object.keys(schema.properties ?? {});
      return keys.length > 0 && keys.length <= 4 ? `an object { ${keys.join(', ')} }` : 'an object';
    }
    default:
      return 'a value';
  }
}

function list(items: string[], conjunction: 'or' | 'and'): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/** Levenshtein distance, case-insensitive: "did you mean" suggestions for misspelt keys. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, index) => index);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)));
    previous = current;
  }
  return previous[y.length]!;
}

function closest(key: string, known: string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d <= 2 && (best === undefined || d < best.distance)) best = { key: candidate, distance: d };
  }
  return best?.key;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing and interpolation

/** Aliases may repeat a subtree; this bounds how many nodes they expand to (a "billion laughs" file stops here). */
const MAX_ALIAS_NODES = 10_000;
const VARIABLE_REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

interface Interpolation {
  value: string;
  /** Problems with their offset in the raw string. */
  problems: Array<{ offset: number; reference: string; message: string }>;
}

/** `${NAME}` → env.NAME; `${NAME:-fallback}` when unset or empty; `$${` → a literal `${`. */
function interpolate(raw: string, env: NodeJS.ProcessEnv): Interpolation {
  const problems: Interpolation['problems'] = [];
  let value = '';
  let index = 0;
  while (index < raw.length) {
    const dollar = raw.indexOf('$', index);
    if (dollar === -1) {
      value += raw.slice(index);
      break;
    }
    value += raw.slice(index, dollar);
    if (raw.startsWith('$${', dollar)) {
      value += '${';
      index = dollar + 3;
    } else if (raw.startsWith('${', dollar)) {
      const end = raw.indexOf('}', dollar + 2);
      if (end === -1) {
        problems.push({ offset: dollar, reference: '${', message: 'has a `${` without its closing `}` (write `$${` for a literal `${`)' });
        value += raw.slice(dollar);
        break;
      }
      const body = raw.slice(dollar + 2, end);
      const match = VARIABLE_REFERENCE.exec(body);
      if (match === null) {
        problems.push({ offset: dollar, reference: `\${${body}}`, message: `has an invalid reference \`\${${body}}\`: expected \${NAME} or \${NAME:-fallback}` });
      } else {
        const [, name, fallback] = match as unknown as [string, string, string | undefined];
        const variable = env[name];
        if (fallback !== undefined) value += variable === undefined || variable === '' ? fallback : variable;
        else if (variable !== undefined) value += variable;
        else problems.push({ offset: dollar, reference: `\${${name}`, message: `references the environment variable ${name}, which is not set (set it, or write \${${name}:-<fallback>})` });
      }
      index = end + 1;
    } else {
      value += '$';
      index = dollar + 1;
    }
  }
  return { value, problems };
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, not assignment: a `__proto__` key must stay data, not change the object's prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Parses YAML or JSON and interpolates `${VAR}` in string values, recording where every key and value is.
 * Throws ConfigError with every syntax error, duplicate key and unset variable.
 */
export function parseConfigSource(text: string, file: string, env: NodeJS.ProcessEnv): { config: unknown; positions: ConfigPositions } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number | undefined): Position => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line, column: col };
  };
  const problems: ConfigProblem[] = [];
  for (const error of [...document.errors, ...document.warnings]) {
    const position = at(error.pos[0]);
    // One problem per place: the parser often explains one mistake twice.
    if (problems.some((problem) => problem.line === position.line && problem.column === position.column)) continue;
    problems.push({ file, ...position, key: '', message: `is not valid YAML or JSON: ${error.message}` });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const positions: ConfigPositions = { file, values: new Map(), keys: new Map(), interpolated: new Map(), overrides: new Map() };
  let aliasNodes = 0;
  const expanding = new Set<YamlNode>();

  const convert = (node: unknown, path: Path, viaAlias: boolean): unknown => {
    const key = dottedKey(path);
    if (node === null || node === undefined) {
      if (!positions.values.has(key)) positions.values.set(key, { line: 1, column: 1 });
      return null;
    }
    const start = (node as YamlNode).range?.[0];
    if (start !== undefined) positions.values.set(key, at(start));
    if (viaAlias && ++aliasNodes > MAX_ALIAS_NODES) {
      problems.push({ file, ...at(start), key, message: `expands aliases to more than ${MAX_ALIAS_NODES} values` });
      return null;
    }
    if (isAlias(node)) {
      const target = node.resolve(document as Document);
      if (target === undefined || expanding.has(target)) {
        problems.push({ file, ...at(start), key, message: `is an alias *${node.source} ${target === undefined ? 'with no anchor before it' : 'that contains itself'}` });
        return null;
      }
      expanding.add(target);
      const value = convert(target, path, true);
      expanding.delete(target);
      if (start !== undefined) positions.values.set(key, at(start));
      return value;
    }
    if (isScalar(node)) {
      const value = node.value;
      if (typeof value === 'string') {
        if (!value.includes('$')) return value;
        const result = interpolate(value, env);
        const source = start === undefined ? '' : text.slice(start, node.range![1]);
        for (const problem of result.problems) {
          const found = source.indexOf(problem.reference);
          problems.push({ file, ...at(found === -1 ? start : start! + found), key, message: problem.message });
        }
        if (result.value !== value || value.includes('${')) positions.interpolated.set(key, [...path]);
        return result.value;
      }
      if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
      problems.push({ file, ...at(start), key, message: `is ${typeof value === 'number' ? String(value) : `a ${node.tag ?? typeof value} value`}, which a configuration cannot hold` });
      return null;
    }
    if (isMap(node)) {
      const result: Record<string, unknown> = {};
      const seen = new Map<string, Position>();
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyStart = keyNode?.range?.[0];
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
          problems.push({ file, ...at(keyStart ?? start), key, message: 'has a key that is not a plain name' });
          continue;
        }
        const name = String(keyNode.value);
        const childPath = [...path, name];
        const childKey = dottedKey(childPath);
        const keyPosition = at(keyStart);
        const first = seen.get(name);
        if (first !== undefined) {
          problems.push({ file, ...keyPosition, key: childKey, message: `is defined twice (first at line ${first.line}, column ${first.column})` });
          continue;
        }
        seen.set(name, keyPosition);
        positions.keys.set(childKey, keyPosition);
        positions.values.set(childKey, keyPosition); // replaced by the value's own position when it has one
        setOwn(result, name, convert(pair.value, childPath, viaAlias));
      }
      return result;
    }
    if (isSeq(node)) return node.items.map((item, index) => convert(item, [...path, index], viaAlias));
    problems.push({ file, ...at(start), key, message: 'is not a value a configuration can hold' });
    return null;
  };

  const config = convert(document.contents, [], false);
  if (document.contents === null) positions.values.set('', { line: 1, column: 1 });
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, positions };
}

/** Parses YAML or JSON and interpolates `${VAR}`; throws ConfigError with positions. See parseConfigSource. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv): unknown {
  return parseConfigSource(text, file, env).config;
}

// ---------------------------------------------------------------------------------------------------------------
// Environment overrides

type ScalarType = 'string' | 'integer' | 'number' | 'boolean';

export interface EnvironmentOverride {
  variable: string;
  /** The dotted key it sets. */
  key: string;
  type: ScalarType;
  description: string;
}

const upperSnake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function isScalarType(type: JsonSchema['type']): type is ScalarType {
  return type === 'string' || type === 'integer' || type === 'number' || type === 'boolean';
}

/** Every REMOTE_MCP_* variable that overrides a key of the configuration file. */
export const ENVIRONMENT_OVERRIDES: readonly EnvironmentOverride[] = Object.freeze([
  ...Object.entries(CONFIG_SCHEMA.properties!).flatMap(([key, schema]) =>
    isScalarType(schema.type) ? [{ variable: `REMOTE_MCP_${upperSnake(key)}`, key, type: schema.type, description: schema.description ?? '' }] : [],
  ),
  { variable: 'REMOTE_MCP_LOG_LEVEL', key: 'log.level', type: 'string' as const, description: CONFIG_SCHEMA.properties!.log!.properties!.level!.description ?? '' },
  { variable: 'REMOTE_MCP_METRICS_PORT', key: 'metrics.port', type: 'integer' as const, description: 'Serve metrics on a separate listener on this port (enables metrics).' },
]);

function coerce(raw: string, type: ScalarType): string | number | boolean | undefined {
  switch (type) {
    case 'string':
      return raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'integer': {
      const value = Number(raw);
      return /^-?\d+$/.test(raw) && Number.isSafeInteger(value) ? value : undefined;
    }
    case 'number': {
      const value = Number(raw);
      return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw) && Number.isFinite(value) ? value : undefined;
    }
  }
}

const TYPE_WORDS: Record<ScalarType, string> = { string: 'a string', integer: 'an integer', number: 'a number', boolean: '"true" or "false"' };

/**
 * Applies the REMOTE_MCP_* variables (ENVIRONMENT_OVERRIDES) over the file's values; empty variables are
 * ignored. Returns a new configuration; throws ConfigError naming each variable whose value does not coerce.
 * With `positions`, records which keys the environment set, so later problems name the variable.
 */
export function applyEnvironmentOverrides(config: unknown, env: NodeJS.ProcessEnv, positions?: ConfigPositions): unknown {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return config;
  const result = structuredClone(config) as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  for (const override of ENVIRONMENT_OVERRIDES) {
    const raw = env[override.variable];
    if (raw === undefined || raw === '') continue;
    const value = coerce(raw, override.type);
    if (value === undefined) {
      problems.push({ file: `$${override.variable}`, key: override.key, message: `expected ${TYPE_WORDS[override.type]}; received ${describeValue(raw)}` });
      continue;
    }
    const [first, second] = override.key.split('.') as [string, string | undefined];
    if (second === undefined) setOwn(result, first, value);
    else {
      const parent = result[first];
      // metrics: true/false/absent become { port }: asking for a metrics port asks for metrics.
      const object = parent !== null && typeof parent === 'object' && !Array.isArray(parent) ? (parent as Record<string, unknown>) : {};
      setOwn(object, second, value);
      setOwn(result, first, object);
    }
    positions?.overrides.set(override.key, override.variable);
    positions?.interpolated.delete(override.key);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // strictRequired is off because ajv checks `required` inside anyOf/oneOf branches before it has seen the
  // sibling `properties` that define those keys (auth: jwt or apiKeys); every other strict check is on.
  compiled ??= new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true }).compile(CONFIG_SCHEMA);
  return compiled;
}

/** The schemas that may apply at a path (through oneOf/anyOf branches). */
function schemasAt(path: Path): JsonSchema[] {
  const expand = (schemas: JsonSchema[]): JsonSchema[] => schemas.flatMap((schema) => [schema, ...expand([...(schema.oneOf ?? []), ...(schema.anyOf ?? [])])]);
  let current = expand([CONFIG_SCHEMA]);
  for (const segment of path) {
    current = expand(
      current.flatMap((schema) => {
        if (typeof segment === 'number') return schema.items === undefined ? [] : [schema.items];
        const property = schema.properties?.[segment] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        return property === undefined ? [] : [property];
      }),
    );
  }
  return current;
}

/** `port: ${PORT}` reads a string from the environment; where the schema wants no string, it is coerced. */
function coerceInterpolated(config: unknown, positions: ConfigPositions): unknown {
  if (positions.interpolated.size === 0) return config;
  const copy = structuredClone(config);
  for (const path of positions.interpolated.values()) {
    if (path.length === 0) continue;
    let parent: unknown = copy;
    for (const segment of path.slice(0, -1)) parent = (parent as Record<string | number, unknown> | null)?.[segment];
    const last = path[path.length - 1]!;
    if (parent === null || typeof parent !== 'object') continue;
    const raw = (parent as Record<string | number, unknown>)[last];
    if (typeof raw !== 'string') continue;
    const types = new Set(schemasAt(path).map((schema) => schema.type));
    if (types.has('string') || types.has(undefined)) continue;
    for (const type of ['integer', 'number', 'boolean'] as const) {
      const value = types.has(type) ? coerce(raw, type) : undefined;
      if (value !== undefined) {
        (parent as Record<string | number, unknown>)[last] = value;
        break;
      }
    }
  }
  return copy;
}

function pathOf(instancePath: string, data: unknown): Path {
  const path: Path = [];
  let node = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(node) ? Number(segment) : undefined;
    path.push(index ?? segment);
    node = (node as Record<string | number, unknown> | null)?.[index ?? segment];
  }
  return path;
}

const isRequiredOnly = (schema: JsonSchema) => Object.keys(schema).every((keyword) => keyword === 'required' || keyword === 'description');

/**
 * Folds the errors ajv reports for every branch of a oneOf/anyOf into the ones that matter: the errors of the
 * branch the value evidently meant (its type fits, its keys belong), else the combinator's own error alone.
 */
function collapse(errors: ErrorObject[]): ErrorObject[] {
  let remaining = [...errors];
  const combinators = errors.filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const combinator of combinators) {
    if (!remaining.includes(combinator)) continue;
    const prefix = `${combinator.schemaPath}/`;
    const inside = remaining.filter((error) => error.schemaPath.startsWith(prefix));
    remaining = remaining.filter((error) => !error.schemaPath.startsWith(prefix));
    const branches = combinator.schema as JsonSchema[];
    if (Array.isArray(combinator.params.passingSchemas) || branches.every(isRequiredOnly)) continue;
    const byBranch = new Map<number, ErrorObject[]>();
    for (const error of inside) {
      const branch = Number(error.schemaPath.slice(prefix.length).split('/')[0]);
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), error]);
    }
    const atLevel = (error: ErrorObject) => error.instancePath === combinator.instancePath;
    const fits = [...byBranch.values()].filter((list) => !list.some((error) => atLevel(error) && ['type', 'const', 'enum'].includes(error.keyword)));
    const belongs = fits.filter((list) => !list.some((error) => atLevel(error) && error.keyword === 'additionalProperties'));
    let chosen: ErrorObject[] | undefined;
    if (belongs.length === 1) chosen = belongs[0];
    else if (belongs.length === 0 && fits.length > 0) {
      const fewest = Math.min(...fits.map((list) => list.length));
      const best = fits.filter((list) => list.length === fewest);
      if (best.length === 1) chosen = best[0];
    }
    if (chosen !== undefined) remaining = [...remaining.filter((error) => error !== combinator), ...chosen];
  }
  return remaining;
}

interface Described {
  path: Path;
  message: string;
  /** Point at the key rather than the value (an unknown key). */
  atKey?: boolean;
}

function describeError(error: ErrorObject, data: unknown): Described {
  const path = pathOf(error.instancePath, data);
  const schema = error.parentSchema as JsonSchema;
  const received = describeValue(error.data);
  switch (error.keyword) {
    case 'type':
      if (path.length === 0 && error.data === null) return { path, message: 'is empty: expected a mapping of keys to values, with at least `module`' };
      return { path, message: `expected ${describeSchema(schema)}; received ${received}` };
    case 'minimum':
    case 'maximum':
    case 'enum':
    case 'const':
    case 'pattern':
      return { path, message: `expected ${describeSchema(schema)}; received ${received}` };
    case 'minLength':
      // Lengths only: the value may be a secret.
      return { path, message: `expected ${describeSchema(schema)}; received ${String(error.data).length} character${String(error.data).length === 1 ? '' : 's'}` };
    case 'minItems':
      return { path, message: `expected ${describeSchema(schema)}; received ${received}` };
    case 'required': {
      const missing = String(error.params.missingProperty);
      const property = schema.properties?.[missing];
      return { path: [...path, missing], message: `is required but missing${property === undefined ? '' : `: expected ${describeSchema(property)} (${(property.description ?? '').replace(/\.$/, '')})`}` };
    }
    case 'additionalProperties': {
      const unknown = String(error.params.additionalProperty);
      const known = Object.keys(schema.properties ?? {});
      const suggestion = closest(unknown, known);
      return {
        path: [...path, unknown],
        atKey: true,
        message: `is not a known key${suggestion === undefined ? '' : ` (did you mean \`${suggestion}\`?)`}; known keys${path.length === 0 ? '' : ` of \`${dottedKey(path)}\``}: ${known.join(', ')}`,
      };
    }
    case 'oneOf':
    case 'anyOf': {
      const branches = error.schema as JsonSchema[];
      if (branches.every(isRequiredOnly)) {
        const names = branches.map((branch) => `\`${branch.required![0]}\``);
        const present = branches.filter((branch) => Object.hasOwn((error.data ?? {}) as object, branch.required![0]!)).map((branch) => `\`${branch.required![0]}\``);
        const how = error.keyword === 'oneOf' ? 'exactly one of' : 'at least one of';
        return { path, message: `expected ${how} ${list(names, 'or')}; received ${present.length === 0 ? 'none' : list(present, 'and')}` };
      }
      return { path, message: `expected ${describeSchema(schema)}; received ${received}` };
    }
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/** The environment variable that set a key or one of its parents, if one did. */
function overrideOf(key: string, positions: ConfigPositions): string | undefined {
  for (const [overridden, variable] of positions.overrides) {
    if (key === overridden || key.startsWith(`${overridden}.`) || key.startsWith(`${overridden}[`)) return variable;
  }
  return undefined;
}

function positionOf(path: Path, positions: ConfigPositions, atKey: boolean): Position | undefined {
  const key = dottedKey(path);
  const exact = atKey ? (positions.keys.get(key) ?? positions.values.get(key)) : positions.values.get(key);
  if (exact !== undefined) return exact;
  // A missing key: point at the object that lacks it.
  for (let length = path.length - 1; length >= 0; length--) {
    const parent = positions.values.get(dottedKey(path.slice(0, length)));
    if (parent !== undefined) return parent;
  }
  return undefined;
}

/**
 * Validates a parsed configuration against CONFIG_SCHEMA (after coercing interpolated values to the schema's
 * scalar types). Returns it typed; throws ConfigError with one problem per fault, at the file position of the
 * value at fault (of its parent for a missing key), or naming the environment variable that set it.
 */
export function validateConfig(config: unknown, positions: ConfigPositions): ConfigFile {
  const value = coerceInterpolated(config, positions);
  const validate = validator();
  if (validate(value)) return value as ConfigFile;
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of collapse(validate.errors ?? [])) {
    const described = describeError(error, value);
    const key = dottedKey(described.path);
    const variable = overrideOf(key, positions);
    const position = variable === undefined ? positionOf(described.path, positions, described.atKey === true) : undefined;
    const problem: ConfigProblem = { file: variable === undefined ? positions.file : `$${variable}`, ...position, key, message: described.message };
    const text = formatProblem(problem);
    if (seen.has(text)) continue;
    seen.add(text);
    problems.push(problem);
  }
  problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
  throw new ConfigError(problems);
}

// ---------------------------------------------------------------------------------------------------------------
// Loading and turning a configuration into what `serve` needs

/** Reads, parses, interpolates, applies REMOTE_MCP_* overrides and validates a configuration file. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file: path, key: '', message: `cannot be read: ${(error as Error).message}` }]);
  }
  const { config: parsed, positions } = parseConfigSource(text, path, env);
  const config = validateConfig(applyEnvironmentOverrides(parsed, env, positions), positions);
  return { file, directory: dirname(file), config, positions };
}

export type TlsListen = { cert: Buffer; key: Buffer } | { selfSigned: true };

export interface ServePlan {
  /** Absolute path of the module exporting the server factory. */
  modulePath: string;
  exportName: string;
  options: Omit<RemoteServerOptions, 'server'>;
  listen: { port: number; host: string; tls?: TlsListen };
}

/**
 * What `serve` needs from a loaded configuration: the module and export to load, the server options and where
 * to listen. Paths in the file (module, TLS files, the API keys file, audit and log files) are resolved against
 * the file's directory; the module must exist and the TLS files are read here, so a bad path is a ConfigError
 * naming its key before anything starts.
 */
export async function configToServe(loaded: LoadedConfig): Promise<ServePlan> {
  const { config, directory, positions } = loaded;
  const problems: ConfigProblem[] = [];
  const fault = (key: string, message: string) => problems.push({ file: positions.file, ...positions.values.get(key), key, message });
  const within = (path: string) => resolve(directory, path);

  const modulePath = within(config.module);
  try {
    if (!(await stat(modulePath)).isFile()) fault('module', `is not a file: ${modulePath}`);
  } catch (error) {
    fault('module', `cannot be found: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? modulePath : (error as Error).message}`);
  }

  let tls: TlsListen | undefined;
  if (config.tls !== undefined && 'selfSigned' in config.tls) tls = { selfSigned: true };
  else if (config.tls !== undefined) {
    const read = async (key: 'certFile' | 'keyFile', path: string) => {
      try {
        return await readFile(within(path));
      } catch (error) {
        fault(`tls.${key}`, `cannot be read: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file ${within(path)}` : (error as Error).message}`);
        return undefined;
      }
    };
    const [cert, key] = await Promise.all([read('certFile', config.tls.certFile), read('keyFile', config.tls.keyFile)]);
    if (cert !== undefined && key !== undefined) tls = { cert, key };
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const { module: _module, export: _export, port: _port, host: _host, tls: _tls, ...server } = structuredClone(config);
  if (server.auth?.apiKeys !== undefined) server.auth.apiKeys.file = within(server.auth.apiKeys.file);
  if (server.audit?.destination !== undefined && server.audit.destination !== 'stdout') server.audit.destination = within(server.audit.destination);
  if (server.log?.destination !== undefined && server.log.destination !== 'stdout' && server.log.destination !== 'stderr') server.log.destination = within(server.log.destination);

  return {
    modulePath,
    exportName: config.export ?? 'default',
    options: server satisfies Omit<RemoteServerOptions, 'server'>,
    listen: { port: config.port ?? 8080, host: config.host ?? '127.0.0.1', ...(tls !== undefined && { tls }) },
  };
}
