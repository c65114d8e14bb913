/**
 * Credentials on long-lived connections, against real servers: a revoked API key (through `remote-mcp keys
 * revoke` or a rewritten keys file) ends its WebSockets (1008), HTTP+SSE, listen and GET streams and its
 * 2025-era sessions within the reload interval; a JWT's expiry ends the streams opened with it; a JWT issued in
 * the future is refused. Every forced end leaves an audit line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { SignJWT } from 'jose';

import { mintApiKey, RemoteMcpOptionError, writeKeysFile, type ApiKeyEntry } from '../src/index.js';
import {
  connectWebSocket,
  ENVELOPE,
  LEGACY_HEADERS,
  modernBody,
  modernHeaders,
  openSession,
  openStream,
  raw,
  start,
  withServer,
  withTimeout,
  type OpenStream,
} from './helpers.js';

const RELOAD_MS = 200;
/** Event-loop and stat latency on a loaded machine, on top of the reload interval. */
const SLACK_MS = 400;
const SECRET = 'a-test-secret-that-is-long-enough-32b';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'https://mcp.test/mcp';

const scratch = () => mkdtempSync(join(tmpdir(), 'remote-mcp-credentials-'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function token(claims: Record<string, unknown>, sub = 'alice'): Promise<string> {
  return new SignJWT({ scope: 'mcp', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(sub)
    .sign(new TextEncoder().encode(SECRET));
}

const jwtAuth = { jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE } };

/** A 2026-07-28 subscription to tool-list changes. */
async function listen(url: string, id: string, headers: Record<string, string>): Promise<OpenStream> {
  return track(
    await openStream(url, {
      headers: { ...modernHeaders('subscriptions/listen'), ...headers },
      body: modernBody(id, 'subscriptions/listen', { notifications: { toolsListChanged: true } }),
    }),
  );
}

async function acknowledged(stream: OpenStream): Promise<void> {
  assert.equal(stream.status, 200);
  await stream.waitFor((e) => e.message?.method === 'notifications/subscriptions/acknowledged', 2000);
}

function sessionPost(url: string, id: string, headers: Record<string, string>) {
  return raw(url, {
    headers: { ...LEGACY_HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
}

/** The session's standalone GET stream, opened with `headers`. */
async function getStream(url: string, id: string, headers: Record<string, string>): Promise<OpenStream> {
  const stream = track(
    await openStream(url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25', ...headers },
    }),
  );
  assert.equal(stream.status, 200);
  return stream;
}

/** An initialized 2024-11-05 HTTP+SSE session: its stream and messages URL. */
async function openSseSession(url: string, headers: Record<string, string>) {
  const stream = track(
    await openStream(url.replace('/mcp', '/sse'), {
      method: 'GET',
      headers: { accept: 'text/event-stream', ...headers },
    }),
  );
  assert.equal(stream.status, 200);
  const endpoint = await stream.waitFor((e) => e.event === 'endpoint', 2000);
  const messages = new URL(url).origin + endpoint.data;
  const initialize = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  });
  const posted = await raw(messages, { headers: { 'content-type': 'application/json', ...headers }, body: initialize });
  assert.equal(posted.status, 202);
  await stream.waitFor((e) => e.message?.id === 1, 2000);
  return { stream, messages };
}

/** The audit lines of forced ends, as [stream, reason] pairs, sorted. */
function endedLines(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.outcome === 'ended')
    .map((entry) => [entry.stream, entry.reason, entry.principal])
    .sort();
}

/** Client ends opened by a test, dropped after it whatever its outcome (a failed test must not hold the process). */
const opened = new Set<{ destroy(): void }>();
afterEach(() => {
  for (const connection of opened) connection.destroy();
  opened.clear();
});

function track<T extends { destroy(): void }>(connection: T): T {
  opened.add(connection);
  return connection;
}

async function socket(url: string, headers: Record<string, string>) {
  const connected = await connectWebSocket(url, ['mcp'], headers);
  opened.add({ destroy: () => connected.ws.terminate() });
  return connected;
}

const toolsList = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list', params: { _meta: ENVELOPE } });

describe('revoking an API key', () => {
  test('`keys revoke` closes its WebSockets (modern and session-bound) with 1008 within the reload interval; other keys stay', async () => {
    const dir = scratch();
    const file = join(dir, 'keys.json');
    const revokedKey = mintApiKey('revoked', []);
    const keptKey = mintApiKey('kept', []);
    writeKeysFile(file, { version: 1, keys: [revokedKey.entry, keptKey.entry] });
    const audit = join(dir, 'audit.log');
    const s = await start({ auth: { apiKeys: { file, reloadIntervalMs: RELOAD_MS } }, audit: { destination: audit } });
    try {
      const modern = await socket(s.url, { 'x-api-key': revokedKey.key });
      modern.send(toolsList(1));
      await modern.waitFor((m) => m.id === 1 && m.result !== undefined, 'the modern answer');
      const bound = await socket(s.url, { 'x-api-key': revokedKey.key });
      bound.send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      });
      await bound.waitFor((m) => m.id === 1 && m.result !== undefined, 'the session-bound initialize answer');
      const kept = await socket(s.url, { authorization: `ApiKey ${keptKey.key}` });

      const revoked = spawnSync(
        process.execPath,
        ['build/src/cli/main.js', 'keys', 'revoke', revokedKey.entry.id, '--file', file],
        { encoding: 'utf8' },
      );
      assert.equal(revoked.status, 0, revoked.stderr);
      const since = Date.now();
      const [modernClose, boundClose] = await withTimeout(
        Promise.all([modern.closed, bound.closed]),
        RELOAD_MS + SLACK_MS,
        'both sockets of the revoked key to close',
      );
      assert.ok(Date.now() - since <= RELOAD_MS + SLACK_MS);
      assert.deepEqual(modernClose, { code: 1008, reason: 'The credential was revoked' });
      assert.deepEqual(boundClose, { code: 1008, reason: 'The credential was revoked' });

      kept.send(toolsList(7));
      await kept.waitFor((m) => m.id === 7 && m.result !== undefined, "the other key's socket to keep working");
    } finally {
      await s.close();
    }
    const principal = `key:${revokedKey.entry.id}`;
    assert.deepEqual(endedLines(audit), [
      ['websocket', 'credential-revoked', principal],
      ['websocket', 'credential-revoked', principal],
    ]);
  });

  test('a rewritten keys file ends the HTTP+SSE, listen and GET streams; the sessions answer 404 even to the restored key', async () => {
    const dir = scratch();
    const file = join(dir, 'keys.json');
    const minted = mintApiKey('deploy', []);
    const other = mintApiKey('other', []);
    const write = (entry: ApiKeyEntry) => writeKeysFile(file, { version: 1, keys: [entry, other.entry] });
    write(minted.entry);
    const audit = join(dir, 'audit.log');
    const key = { 'x-api-key': minted.key };
    const s = await start({ auth: { apiKeys: { file, reloadIntervalMs: RELOAD_MS } }, audit: { destination: audit } });
    try {
      const sse = await openSseSession(s.url, key);
      const subscription = await listen(s.url, 'sub-revoked', key);
      await acknowledged(subscription);
      const session = await openSession(s.url, '2025-11-25', {}, key);
      const get = await getStream(s.url, session, key);
      const untouched = await listen(s.url, 'sub-other', { 'x-api-key': other.key });
      await acknowledged(untouched);

      write({ ...minted.entry, revokedAt: new Date().toISOString() });
      const since = Date.now();
      await withTimeout(
        Promise.all([sse.stream.ended, subscription.ended, get.ended]),
        RELOAD_MS + SLACK_MS,
        'the three streams of the revoked key to end',
      );
      assert.ok(Date.now() - since <= RELOAD_MS + SLACK_MS);
      // The subscription is answered with the reason; the others simply end.
      assert.deepEqual(subscription.events.at(-1)?.message, {
        jsonrpc: '2.0',
        id: 'sub-revoked',
        error: { code: -32001, message: 'Unauthorized: the credential was revoked' },
      });
      assert.equal(get.text().includes('"error"'), false);

      // The revoked key itself is refused at authentication, before any session is looked up.
      assert.equal((await sessionPost(s.url, session, key)).status, 401);
      // Restoring the key does not bring back what the revocation ended.
      write(minted.entry);
      let status = 401;
      for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
        await sleep(50);
        status = (
          await raw(s.url, { headers: { ...modernHeaders('tools/list'), ...key }, body: modernBody(1, 'tools/list') })
        ).status;
      }
      assert.equal(status, 200);
      const afterwards = await sessionPost(s.url, session, key);
      assert.equal(afterwards.status, 404);
      assert.deepEqual(afterwards.json().error, { code: -32600, message: 'Session not found' });
      const ssePost = await raw(sse.messages, {
        headers: { 'content-type': 'application/json', ...key },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      assert.equal(ssePost.status, 404);
      assert.deepEqual(ssePost.json().error, { code: -32600, message: 'Session not found' });

      // The other key's subscription was never touched.
      s.server.notify.toolsListChanged();
      await untouched.waitFor((e) => e.message?.method === 'notifications/tools/list_changed', 2000);
    } finally {
      await s.close();
    }
    const principal = `key:${minted.entry.id}`;
    assert.deepEqual(endedLines(audit), [
      ['http-sse', 'credential-revoked', principal],
      ['listen', 'credential-revoked', principal],
      ['session', 'credential-revoked', principal],
      ['session-get', 'credential-revoked', principal],
    ]);
  });

  test('auth.apiKeys.reloadIntervalMs must be an integer from 10 to 3600000', async () => {
    const file = join(scratch(), 'keys.json');
    for (const reloadIntervalMs of [5, 1.5, 3_600_001]) {
      await assert.rejects(
        async () => {
          const started = await start({ auth: { apiKeys: { file, reloadIntervalMs } } });
          await started.close();
        },
        (error: Error) =>
          error instanceof RemoteMcpOptionError &&
          error.message ===
            `remote-mcp: option \`auth.apiKeys.reloadIntervalMs\` must be an integer from 10 to 3600000; received ${reloadIntervalMs}.`,
      );
    }
  });
});

describe('a JWT on a long-lived stream', () => {
  test('the listen, GET and HTTP+SSE streams opened with a token end when it expires; the session lives on', async () => {
    const audit = join(scratch(), 'audit.log');
    await withServer({ auth: jwtAuth, audit: { destination: audit } }, async (s) => {
      const exp = Math.floor(Date.now() / 1000) + 2;
      const expiring = { authorization: `Bearer ${await token({ exp })}` };
      const lasting = { authorization: `Bearer ${await token({ exp: exp + 300 })}` };
      const subscription = await listen(s.url, 'sub-expiring', expiring);
      await acknowledged(subscription);
      const session = await openSession(s.url, '2025-11-25', {}, expiring);
      const get = await getStream(s.url, session, expiring);
      const sse = await openSseSession(s.url, expiring);
      const control = await listen(s.url, 'sub-lasting', lasting);
      await acknowledged(control);

      await withTimeout(
        Promise.all([subscription.ended, get.ended, sse.stream.ended]),
        4000,
        'the streams to end at expiry',
      );
      assert.ok(Date.now() >= exp * 1000 - 50, 'ended before the token expired');
      assert.deepEqual(subscription.events.at(-1)?.message, {
        jsonrpc: '2.0',
        id: 'sub-expiring',
        error: { code: -32001, message: 'Unauthorized: the credential has expired' },
      });
      // The session belongs to the principal: a fresh token of the same subject continues it.
      const continued = await sessionPost(s.url, session, lasting);
      assert.equal(continued.status, 200);
      assert.equal(Array.isArray(continued.json().result.tools), true);
      // A stream opened with a token that has not expired stays open.
      s.server.notify.toolsListChanged();
      await control.waitFor((e) => e.message?.method === 'notifications/tools/list_changed', 2000);
    });
    const principal = `jwt:${ISSUER}:alice`;
    assert.deepEqual(endedLines(audit), [
      ['http-sse', 'credential-expired', principal],
      ['listen', 'credential-expired', principal],
      ['session-get', 'credential-expired', principal],
    ]);
  });

  test('a token issued beyond the clock tolerance in the future is 401 invalid_token; within it, accepted', async () => {
    await withServer({ auth: jwtAuth }, async (s) => {
      const now = Math.floor(Date.now() / 1000);
      const request = async (iat: number) =>
        raw(s.url, {
          headers: { ...modernHeaders('tools/list'), authorization: `Bearer ${await token({ iat, exp: now + 900 })}` },
          body: modernBody(1, 'tools/list'),
        });
      const future = await request(now + 600);
      assert.equal(future.status, 401);
      assert.deepEqual(future.json().error, {
        code: -32001,
        message: 'Unauthorized: The token was issued in the future (iat)',
      });
      assert.equal(
        future.headers['www-authenticate'],
        `Bearer resource_metadata="http://127.0.0.1:${s.port}/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="The token was issued in the future (iat)"`,
      );
      assert.equal((await request(now + 10)).status, 200);
      assert.equal((await request(now - 60)).status, 200);
    });
  });
});
