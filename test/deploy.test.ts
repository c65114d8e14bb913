/**
 * The deployment files (deploy/, Dockerfile, .dockerignore) say what docs/deployment.md says, and agree with each
 * other and with remote-mcp's defaults. No Docker engine or cluster runs here: the YAML is parsed and checked for
 * structure, `nginx -t` checks the nginx file, `kubectl kustomize` and `docker compose config` render what they
 * can when those clients are installed (a skip says so when not), and the image's HEALTHCHECK and CMD run against
 * this build. deploy-nginx.test.ts shows what the nginx file does with requests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseAllDocuments, parse as parseYaml } from 'yaml';

import { DEFAULTS } from '../src/index.js';
import { untilServing, withTimeout } from './helpers.js';
import { checkNginxConfig } from './support/nginx.js';
import { nginxMissing } from './support/binaries.js';

const CLI = 'build/src/cli/main.js';

// ---------------------------------------------------------------------------------------------------------------
// Reading the files

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Every document of a YAML file, failing on any parse error or warning. */
function yamlDocuments(file: string): any[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
  const list = Array.isArray(documents) ? documents : [documents];
  for (const document of list) {
    assert.deepEqual(
      [...document.errors, ...document.warnings].map((problem) => problem.message),
      [],
      `${file} parses without problems`,
    );
  }
  return list.map((document) => document.toJS({ maxAliasCount: 100 }));
}

const K8S = 'deploy/kubernetes';
const k8s = (name: string) => yamlDocuments(join(K8S, name));
const compose = () => parseYaml(readFileSync('deploy/compose.yaml', 'utf8'), { merge: true });

/** The value after `flag` in an argument list. */
function flagValue(args: string[], flag: string): string {
  const index = args.indexOf(flag);
  assert.ok(index !== -1 && index + 1 < args.length, `${flag} is passed with a value: ${args.join(' ')}`);
  return args[index + 1]!;
}

/** seconds from "25s", "4s", "300s", "2m". */
function seconds(value: string): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(value);
  assert.ok(match, `a duration: ${value}`);
  const amount = Number(match[1]);
  return match[2] === 'ms' ? amount / 1000 : match[2] === 'm' ? amount * 60 : amount;
}

/** nginx.conf's directives (comments stripped), as [name, value] in order. */
function nginxDirectives(): [string, string][] {
  const text = readFileSync('deploy/nginx/nginx.conf', 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('\n');
  return [...text.matchAll(/^\s*([a-z_]+)\s+([^;{]*?)\s*;/gm)].map((match) => [match[1]!, match[2]!]);
}

function nginxValues(name: string): string[] {
  return nginxDirectives()
    .filter(([directive]) => directive === name)
    .map(([, value]) => value);
}

/** The upstream block's keepalive_timeout (the one inside `upstream remote_mcp {}`). */
function upstreamKeepaliveSeconds(): number {
  const text = readFileSync('deploy/nginx/nginx.conf', 'utf8').replace(/#.*$/gm, '');
  const block = /upstream remote_mcp \{([^}]*)\}/.exec(text);
  assert.ok(block, 'nginx.conf has an upstream remote_mcp block');
  const timeout = /keepalive_timeout\s+(\S+);/.exec(block[1]!);
  assert.ok(timeout, 'the upstream block sets keepalive_timeout');
  return seconds(timeout[1]!);
}

// ---------------------------------------------------------------------------------------------------------------
// Everything parses

test('every YAML file under deploy/ parses into documents', () => {
  const files = filesUnder('deploy').filter((file) => /\.ya?ml$/.test(file));
  assert.ok(files.length >= 9, `found ${files.join(', ')}`);
  for (const file of files) {
    const documents = yamlDocuments(file);
    assert.ok(documents.length > 0 && documents.every((one) => one !== null && typeof one === 'object'), file);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes

function kustomizeResources(): string[] {
  const [kustomization] = k8s('kustomization.yaml');
  return kustomization.resources as string[];
}

function deployment() {
  const [doc] = k8s('deployment.yaml');
  assert.equal(doc.kind, 'Deployment');
  const container = doc.spec.template.spec.containers[0];
  assert.equal(container.name, 'remote-mcp');
  return { doc, pod: doc.spec.template.spec, container, args: container.command as string[] };
}

test('kustomization applies every manifest but the Secret example, in one namespace', () => {
  const manifests = readdirSync(K8S).filter((name) => name.endsWith('.yaml'));
  assert.deepEqual(
    [...kustomizeResources()].sort(),
    manifests.filter((name) => name !== 'kustomization.yaml' && name !== 'secret.example.yaml').sort(),
  );
  const [kustomization] = k8s('kustomization.yaml');
  assert.equal(kustomization.namespace, 'remote-mcp');
  const [namespace] = k8s('namespace.yaml');
  assert.deepEqual([namespace.kind, namespace.metadata.name], ['Namespace', 'remote-mcp']);
});

test('Deployment: 3 replicas, liveness on /health, readiness on /ready, on the port the server listens on', () => {
  const { doc, container, args } = deployment();
  assert.equal(doc.apiVersion, 'apps/v1');
  assert.equal(doc.spec.replicas, 3);
  assert.deepEqual(doc.spec.template.metadata.labels, doc.spec.selector.matchLabels);
  assert.deepEqual(container.ports, [{ name: 'http', containerPort: 8080 }]);
  assert.equal(flagValue(args, '--port'), '8080');
  assert.equal(flagValue(args, '--host'), '0.0.0.0');
  assert.deepEqual(container.livenessProbe.httpGet, { path: '/health', port: 'http' });
  assert.deepEqual(container.readinessProbe.httpGet, { path: '/ready', port: 'http' });
  // A rollout never lowers capacity: the new pod is ready before an old one drains.
  assert.deepEqual(doc.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
});

test('Deployment: preStop sleeps, and the grace period outlasts preStop + drain delay + drain timeout', () => {
  const { pod, container, args } = deployment();
  const command = container.lifecycle.preStop.exec.command as string[];
  assert.equal(command[0], 'sleep');
  const preStop = Number(command[1]);
  assert.ok(preStop >= 5, `preStop sleeps ${preStop} s, time for the endpoint removal to propagate`);
  const drain = (Number(flagValue(args, '--drain-delay-ms')) + Number(flagValue(args, '--drain-timeout-ms'))) / 1000;
  assert.ok(
    pod.terminationGracePeriodSeconds > preStop + drain,
    `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > ${preStop} + ${drain}`,
  );
});

test('Deployment: the request-state key from the Secret, the Redis URL from the ConfigMap', () => {
  const { container } = deployment();
  const env = new Map((container.env as any[]).map((one) => [one.name, one]));
  const key = env.get('REMOTE_MCP_REQUEST_STATE_KEY').valueFrom.secretKeyRef;
  const [secret] = k8s('secret.example.yaml');
  assert.equal(secret.kind, 'Secret');
  assert.equal(key.name, secret.metadata.name);
  const placeholder = secret.stringData[key.key];
  assert.equal(typeof placeholder, 'string');
  // Applied unchanged, the example cannot become a key everyone knows: remote-mcp refuses keys under 32 bytes.
  assert.ok(Buffer.byteLength(placeholder) < 32, 'the placeholder is too short to be accepted as a key');
  assert.equal(env.get('REMOTE_MCP_REQUEST_STATE_KEY').value, undefined);

  const url = env.get('REMOTE_MCP_REDIS_URL').valueFrom.configMapKeyRef;
  const [config] = k8s('configmap.yaml');
  assert.equal(config.kind, 'ConfigMap');
  assert.equal(url.name, config.metadata.name);
  const redisUrl = new URL(config.data[url.key]);
  assert.equal(redisUrl.protocol, 'redis:');
  // The URL names redis.yaml's Service (the try-it-out Redis) on its port.
  const [, service] = k8s('redis.yaml');
  assert.deepEqual([redisUrl.hostname, Number(redisUrl.port)], [service.metadata.name, service.spec.ports[0].port]);
});

test('Deployment: non-root, read-only root filesystem, no privilege escalation, a CPU request for the HPA', () => {
  const { pod, container } = deployment();
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
  assert.ok(container.resources.requests.cpu, 'a CPU request (the HPA target is relative to it)');
  assert.ok(container.resources.limits.memory);
  assert.equal(pod.automountServiceAccountToken, false);
});

test('Service, PodDisruptionBudget and HorizontalPodAutoscaler select the Deployment', () => {
  const { doc, container } = deployment();
  const labels = doc.spec.template.metadata.labels;
  const [service] = k8s('service.yaml');
  assert.equal(service.kind, 'Service');
  assert.deepEqual(service.spec.selector, labels);
  assert.equal(service.spec.sessionAffinity, undefined, 'no stickiness: any pod serves any request');
  assert.equal(service.spec.ports[0].targetPort, container.ports[0].name);

  const [pdb] = k8s('pdb.yaml');
  assert.deepEqual([pdb.apiVersion, pdb.kind], ['policy/v1', 'PodDisruptionBudget']);
  assert.deepEqual(pdb.spec.selector.matchLabels, labels);
  assert.equal(pdb.spec.maxUnavailable, 1);

  const [hpa] = k8s('hpa.yaml');
  assert.deepEqual([hpa.apiVersion, hpa.kind], ['autoscaling/v2', 'HorizontalPodAutoscaler']);
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: doc.metadata.name });
  assert.equal(hpa.spec.minReplicas, doc.spec.replicas);
  assert.ok(hpa.spec.maxReplicas > hpa.spec.minReplicas);
  assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
});

test('the try-it-out Redis says it is not for production, and runs as non-root', () => {
  const text = readFileSync(join(K8S, 'redis.yaml'), 'utf8');
  assert.match(text, /NOT FOR PRODUCTION/);
  const [redis, service] = k8s('redis.yaml');
  assert.deepEqual([redis.kind, service.kind], ['Deployment', 'Service']);
  assert.equal(redis.spec.template.spec.securityContext.runAsNonRoot, true);
  assert.deepEqual(service.spec.selector, redis.spec.template.metadata.labels);
});

test('kubectl kustomize renders the manifests', (t) => {
  const version = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) {
    t.skip(`kubectl is not installed here (${version.error?.message ?? version.stderr.trim()}): not rendered`);
    return;
  }
  const rendered = spawnSync('kubectl', ['kustomize', K8S], { encoding: 'utf8' });
  assert.equal(rendered.status, 0, rendered.stderr);
  const documents = parseAllDocuments(rendered.stdout).map((document) => document.toJS());
  assert.deepEqual(documents.map((one) => one.kind).sort(), [
    'ConfigMap',
    'Deployment',
    'Deployment',
    'HorizontalPodAutoscaler',
    'Namespace',
    'PodDisruptionBudget',
    'Service',
    'Service',
  ]);
  for (const one of documents) if (one.kind !== 'Namespace') assert.equal(one.metadata.namespace, 'remote-mcp');
  const app = documents.find((one) => one.kind === 'Deployment' && one.metadata.name === 'remote-mcp');
  assert.equal(app.spec.template.spec.containers[0].image, 'remote-mcp:0.1.0');
});

// ---------------------------------------------------------------------------------------------------------------
// Compose

const INSTANCES = ['mcp1', 'mcp2', 'mcp3'];

test('compose: three remote-mcp instances built from the Dockerfile, with Redis and the shared key', () => {
  const { services } = compose();
  assert.deepEqual(Object.keys(services).sort(), [...INSTANCES, 'nginx', 'redis']);
  for (const name of INSTANCES) {
    const service = services[name];
    assert.deepEqual(service.build, { context: '..', dockerfile: 'Dockerfile' }, name);
    assert.ok(existsSync(join('deploy', service.build.context, service.build.dockerfile)));
    assert.equal(service.environment.REMOTE_MCP_REDIS_URL, 'redis://redis:6379', name);
    // ${VAR:?message}: compose refuses to start (and prints the message) while the key is unset or empty.
    assert.match(
      service.environment.REMOTE_MCP_REQUEST_STATE_KEY,
      /^\$\{REMOTE_MCP_REQUEST_STATE_KEY:\?[^}]*openssl rand -hex 32[^}]*\}$/,
      name,
    );
    assert.deepEqual(service.depends_on, { redis: { condition: 'service_healthy' } }, name);
    assert.equal(flagValue(service.command, '--host'), '0.0.0.0');
    assert.equal(flagValue(service.command, '--port'), '8080');
    // nginx is the one proxy in front: believe the one address it adds to X-Forwarded-For.
    assert.equal(flagValue(service.command, '--trust-proxy'), '1');
    const drain =
      (Number(flagValue(service.command, '--drain-delay-ms')) +
        Number(flagValue(service.command, '--drain-timeout-ms'))) /
      1000;
    assert.ok(seconds(service.stop_grace_period) > drain, `${name}: stop_grace_period outlasts the drain`);
  }
});

test('compose: Redis with a health check and no persistence; nginx with the shipped file, after the instances', () => {
  const { services } = compose();
  const redis = services.redis;
  assert.match(redis.image, /^redis:/);
  assert.deepEqual(redis.healthcheck.test, ['CMD', 'redis-cli', 'ping']);
  assert.deepEqual(redis.command, ['redis-server', '--save', '', '--appendonly', 'no']);

  const nginx = services.nginx;
  assert.match(nginx.image, /^nginx:/);
  assert.deepEqual(nginx.volumes, ['./nginx/nginx.conf:/etc/nginx/nginx.conf:ro']);
  assert.deepEqual(nginx.ports, ['8080:8080']);
  assert.deepEqual(
    nginx.depends_on,
    Object.fromEntries(INSTANCES.map((name) => [name, { condition: 'service_healthy' }])),
  );
  // The shipped nginx.conf balances exactly these services, on the port they listen on, and listens on 8080:
  // in both upstream groups (first tries, and the retries of a 503).
  assert.deepEqual(
    nginxValues('server').map((value) => value.split(' ')[0]),
    [...INSTANCES, ...INSTANCES].map((name) => `${name}:8080`),
  );
  assert.deepEqual(nginxValues('listen'), ['8080']);
});

/** `docker compose` (the v2 plugin), else `docker-compose` (v1); an empty command, and why, when neither runs. */
function composeCommand(): { command: string[]; missing: string } {
  const problems: string[] = [];
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const version = spawnSync(command[0]!, [...command.slice(1), 'version'], { encoding: 'utf8' });
    if (version.error === undefined && version.status === 0) return { command, missing: '' };
    problems.push(`${command.join(' ')}: ${(version.error?.message ?? version.stderr).trim().split('\n')[0]}`);
  }
  return { command: [], missing: problems.join('; ') };
}

test('docker compose config renders the file, and refuses it without the request-state key', (t) => {
  const { command, missing } = composeCommand();
  if (command.length === 0) {
    t.skip(`no compose client is installed here (${missing}): compose.yaml was checked as YAML only`);
    return;
  }
  const run = (env: NodeJS.ProcessEnv) =>
    spawnSync(command[0]!, [...command.slice(1), '-f', 'deploy/compose.yaml', 'config'], { encoding: 'utf8', env });
  const env = { ...process.env };
  delete env.REMOTE_MCP_REQUEST_STATE_KEY;
  const refused = run(env);
  assert.notEqual(refused.status, 0);
  assert.match(`${refused.stdout}${refused.stderr}`, /REMOTE_MCP_REQUEST_STATE_KEY.*openssl rand -hex 32/s);
  const key = 'k'.repeat(64);
  const rendered = run({ ...env, REMOTE_MCP_REQUEST_STATE_KEY: key });
  assert.equal(rendered.status, 0, rendered.stderr);
  const config = parseYaml(rendered.stdout);
  for (const name of INSTANCES) assert.equal(config.services[name].environment.REMOTE_MCP_REQUEST_STATE_KEY, key);
  assert.deepEqual(Object.keys(config.services).sort(), [...INSTANCES, 'nginx', 'redis']);
});

// ---------------------------------------------------------------------------------------------------------------
// nginx.conf against remote-mcp's defaults

test('nginx -t accepts the shipped file with loopback upstreams filled in', { skip: nginxMissing() }, () => {
  const output = checkNginxConfig({ upstreams: ['127.0.0.1:4001', '127.0.0.1:4002', '127.0.0.1:4003'] });
  assert.match(output, /test is successful/);
  assert.doesNotMatch(output, /\[(warn|emerg|alert|crit)\]/);
});

test('nginx.conf agrees with remote-mcp: body limit, keep-alive, stream timeouts, and no re-send of a sent POST', () => {
  const size = nginxValues('client_max_body_size');
  assert.deepEqual(size, [`${DEFAULTS.maxBodyBytes / 1024 / 1024}m`], 'client_max_body_size is maxBodyBytes');
  // nginx closes an idle upstream connection before remote-mcp does, so it never sends on one being closed.
  assert.ok(upstreamKeepaliveSeconds() * 1000 < DEFAULTS.keepAliveTimeoutMs);
  const [read] = nginxValues('proxy_read_timeout');
  assert.ok(seconds(read!) * 1000 > DEFAULTS.keepAliveMs, 'proxy_read_timeout outlasts the SSE keep-alive interval');
  assert.ok(seconds(read!) * 1000 > DEFAULTS.webSocketPingIntervalMs, 'and the WebSocket ping interval');
  const [send] = nginxValues('proxy_send_timeout');
  assert.ok(seconds(send!) * 1000 > DEFAULTS.keepAliveMs);
  assert.deepEqual(nginxValues('proxy_next_upstream'), ['error timeout']);
  assert.doesNotMatch(readFileSync('deploy/nginx/nginx.conf', 'utf8').replace(/#.*$/gm, ''), /non_idempotent/);
  assert.deepEqual(nginxValues('proxy_buffering'), ['off']);
  assert.deepEqual(nginxValues('proxy_request_buffering'), ['on']);
  assert.deepEqual(nginxValues('proxy_http_version'), ['1.1']);
  for (const server of nginxValues('server')) assert.match(server, / max_fails=1 fail_timeout=\d+s$/);
  // One zone per upstream group: each group's peer failures are shared by every worker.
  assert.equal(nginxValues('zone').length, 2);
});

test("nginx.conf retries a 503 through a group without kept-alive connections: a draining instance's refused connect", () => {
  const text = readFileSync('deploy/nginx/nginx.conf', 'utf8').replace(/#.*$/gm, '');
  const retryGroup = /upstream remote_mcp_retry \{([^}]*)\}/.exec(text);
  assert.ok(retryGroup, 'nginx.conf has an upstream remote_mcp_retry block');
  assert.doesNotMatch(retryGroup[1]!, /\bkeepalive\b/);
  const retry = /location @mcp_retry \{([^}]*)\}/.exec(text);
  assert.ok(retry, 'nginx.conf has a location @mcp_retry');
  assert.match(retry[1]!, /proxy_pass http:\/\/remote_mcp_retry;/);
});

test('the drain delay outlasts nginx keeping an idle connection to an instance', () => {
  // Until then nginx may still send on a connection it holds; the draining instance must answer it (503), not close it.
  for (const name of INSTANCES) {
    const delay = Number(flagValue(compose().services[name].command, '--drain-delay-ms'));
    assert.ok(delay > upstreamKeepaliveSeconds() * 1000, `${name}: --drain-delay-ms ${delay}`);
  }
});

test('every flag the deploy files pass to serve is one `remote-mcp serve` has', () => {
  const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  const known = new Set([...help.stdout.matchAll(/(--[a-z][a-z-]*)/g)].map((match) => match[1]));
  const used = [
    ...INSTANCES.map((name) => compose().services[name].command as string[]),
    deployment().args,
    dockerfile().cmd,
  ].flatMap((args) => args.filter((arg) => arg.startsWith('--')));
  assert.deepEqual(
    [...new Set(used)].filter((flag) => !known.has(flag)),
    [],
    'flags the deploy files use that `remote-mcp serve --help` does not list',
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped, grouped by stage. */
function dockerfile(): { stages: { from: string; name: string | undefined; steps: Instruction[] }[]; cmd: string[] } {
  const lines = readFileSync('Dockerfile', 'utf8').replace(/\\\n/g, ' ').split('\n');
  const stages: { from: string; name: string | undefined; steps: Instruction[] }[] = [];
  let cmd: string[] = [];
  for (const line of lines) {
    const match = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (match === null || line.trim().startsWith('#')) continue;
    const [, keyword, args] = match as unknown as [string, string, string];
    if (keyword === 'FROM') {
      const [from, as, name] = args.split(/\s+/);
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, steps: [] });
      continue;
    }
    if (keyword === 'ARG' && stages.length === 0) continue;
    stages.at(-1)!.steps.push({ keyword, args: args.trim() });
    if (keyword === 'CMD') cmd = JSON.parse(args) as string[];
  }
  return { stages, cmd };
}

function healthcheckScript(): string {
  const runtime = dockerfile().stages.at(-1)!;
  const healthcheck = runtime.steps.find((step) => step.keyword === 'HEALTHCHECK');
  assert.ok(healthcheck, 'the runtime stage has a HEALTHCHECK');
  const exec = JSON.parse(healthcheck.args.slice(healthcheck.args.indexOf('CMD') + 3)) as string[];
  assert.deepEqual(exec.slice(0, 2), ['node', '-e'], 'the health check runs node (no curl in slim images)');
  return exec[2]!;
}

test('Dockerfile: a Node 20 multi-stage build; the runtime holds production dependencies and build output only', () => {
  const { stages } = dockerfile();
  assert.deepEqual(
    stages.map((stage) => stage.name),
    ['build', 'runtime-deps', 'runtime'],
  );
  const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync('Dockerfile', 'utf8'));
  assert.match(base?.[1] ?? '', /^node:20-/);
  for (const stage of stages) assert.equal(stage.from, '${NODE_IMAGE}');
  const [build, deps, runtime] = stages as [(typeof stages)[0], (typeof stages)[0], (typeof stages)[0]];
  assert.ok(build.steps.some((step) => step.keyword === 'RUN' && step.args.startsWith('npm ci ')));
  assert.ok(build.steps.some((step) => step.keyword === 'RUN' && step.args === 'npm run build'));
  assert.ok(deps.steps.some((step) => step.keyword === 'RUN' && step.args.includes('npm install --omit=dev')));
  // The runtime stage copies from the other stages only: no sources, no dev dependencies, no build context.
  const copies = runtime.steps.filter((step) => step.keyword === 'COPY');
  assert.deepEqual(
    copies.map((step) => step.args),
    [
      '--from=runtime-deps /app/package.json ./',
      '--from=runtime-deps /app/node_modules ./node_modules',
      '--from=build /app/build/src ./build/src',
      '--from=build /app/build/examples ./build/examples',
    ],
  );
  assert.equal(runtime.steps.filter((step) => step.keyword === 'RUN').length, 0);
});

test('Dockerfile: non-root USER, EXPOSE 8080, a HEALTHCHECK on /health, the demo server as CMD', () => {
  const { stages, cmd } = dockerfile();
  const runtime = stages.at(-1)!;
  const users = runtime.steps.filter((step) => step.keyword === 'USER').map((step) => step.args);
  assert.deepEqual(users, ['node']);
  assert.deepEqual(
    runtime.steps.filter((step) => step.keyword === 'EXPOSE').map((step) => step.args),
    ['8080'],
  );
  assert.match(healthcheckScript(), /http:\/\/127\.0\.0\.1:8080\/health/);
  assert.deepEqual(cmd, ['node', CLI, 'serve', 'build/examples/demo-server.js', '--host', '0.0.0.0']);
});

test('.dockerignore lets in exactly what the Dockerfile copies from the build context', () => {
  const patterns = readFileSync('.dockerignore', 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  assert.equal(patterns[0], '*', 'an allowlist: everything is out unless named');
  const allowed = patterns.slice(1).map((pattern) => pattern.replace(/^!/, ''));
  const sources = dockerfile()
    .stages.flatMap((stage) => stage.steps)
    .filter((step) => step.keyword === 'COPY' && !step.args.startsWith('--from'))
    .flatMap((step) => step.args.split(/\s+/).slice(0, -1))
    .map((source) => source.replace(/\/$/, ''));
  assert.deepEqual([...new Set(sources)].sort(), [...allowed].sort());
  for (const source of allowed) assert.ok(existsSync(source), `${source} exists`);
});

test('the runtime manifest makes the MCP SDKs (the peers: server and client) and the demo’s zod dependencies, at the lockfile versions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-manifest-'));
  try {
    for (const file of ['package.json', 'package-lock.json', 'scripts/docker-runtime-manifest.mjs'])
      cpSync(file, join(dir, file));
    const run = spawnSync(process.execPath, ['scripts/docker-runtime-manifest.mjs'], { cwd: dir, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const original = JSON.parse(readFileSync('package.json', 'utf8'));
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
    const runtime = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const locked = (name: string) => lock.packages[`node_modules/${name}`].version as string;
    assert.deepEqual(runtime.dependencies, {
      ...original.dependencies,
      '@modelcontextprotocol/server': locked('@modelcontextprotocol/server'),
      '@modelcontextprotocol/client': locked('@modelcontextprotocol/client'),
      zod: locked('zod'),
    });
    assert.equal(runtime.type, 'module', 'build/*.js load as ES modules');
    assert.equal(runtime.devDependencies, undefined);
    assert.equal(runtime.scripts, undefined, 'no prepare script to run at install');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the image’s CMD serves, and its HEALTHCHECK passes against it and fails when nothing answers', async () => {
  const { cmd } = dockerfile();
  // The CMD as the image runs it, on loopback and a free port instead of 0.0.0.0:8080.
  const args = [...cmd.slice(1, cmd.indexOf('--host')), '--host', '127.0.0.1', '--port', '0'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const { url } = await untilServing(child, 10_000, 'the image CMD to serve');
    const port = new URL(url).port;
    const probe = (script: string) =>
      new Promise<number | null>((resolve) => {
        spawn(process.execPath, ['-e', script], { stdio: 'ignore' }).once('exit', resolve);
      });
    const script = healthcheckScript();
    assert.equal(await withTimeout(probe(script.replace(':8080/', `:${port}/`)), 10_000, 'the health check'), 0);
    child.kill('SIGTERM');
    await withTimeout(new Promise((resolve) => child.once('exit', resolve)), 15_000, 'the server to exit on SIGTERM');
    assert.equal(await withTimeout(probe(script.replace(':8080/', `:${port}/`)), 10_000, 'the health check'), 1);
  } finally {
    child.kill('SIGKILL');
  }
});

test('docs/deployment.md names every deploy file', () => {
  const doc = readFileSync('docs/deployment.md', 'utf8');
  // Files a user creates next to them (deploy/.env with the key) are not part of the repository.
  const shipped = filesUnder('deploy').filter((file) => !file.split('/').at(-1)!.startsWith('.'));
  for (const file of [...shipped, 'Dockerfile', '.dockerignore'])
    assert.ok(doc.includes(relative('.', file)), `docs/deployment.md mentions ${file}`);
});
