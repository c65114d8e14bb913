/**
 * Authentication and authorization, attacked and used honestly, against real servers: bearer JWTs (secret, PEM
 * key, JWKS), API keys (header forms, revocation through the CLI), the query-string ban, RFC 9728 metadata and
 * challenges, sessions and sockets bound to their principal, the tool policy, and the official v2 client.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer } from '@modelcontextprotocol/server';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import WebSocket from 'ws';
import { z } from 'zod';

import { AuthenticationError, mintApiKey, writeKeysFile, type RemoteServerOptions } from '../src/index.js';
import {
  ENVELOPE,
  LEGACY_HEADERS,
  modernBody,
  modernHeaders,
  openSession,
  openStream,
  raw,
  withServer,
  withTimeout,
} from './helpers.js';

const SECRET = 'a-test-secret-that-is-long-enough-32b';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'https://mcp.test/mcp';
const key = new TextEncoder().encode(SECRET);

/** A server with whoami (returns ctx.http.authInfo), echo, and the policy's admin_reset / alice_only. */
function factory(): McpServer {
  const server = new McpServer({ name: 'auth-test', version: '1.0.0' });
  server.registerTool('whoami', { inputSchema: z.object({}) }, async (_args, ctx) => ({
    content: [{ type: 'text', text: JSON.stringify(ctx.http?.authInfo ?? null) }],
  }));
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('admin_reset', { inputSchema: z.object({}) }, async () => ({
    content: [{ type: 'text', text: 'reset' }],
  }));
  server.registerTool('alice_only', { inputSchema: z.object({}) }, async () => ({
    content: [{ type: 'text', text: 'hi alice' }],
  }));
  return server;
}

const jwtAuth = (extra: Record<string, unknown> = {}): Partial<RemoteServerOptions> => ({
  server: factory,
  auth: { jwt: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE }, requiredScopes: ['mcp'], ...extra },
});

function token(
  claims: Record<string, unknown> = {},
  options: { sub?: string | null; exp?: number; iss?: string; aud?: string; secret?: Uint8Array } = {},
): Promise<string> {
  const jwt = new SignJWT({ scope: 'mcp', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE);
  if (options.sub !== null) jwt.setSubject(options.sub ?? 'alice');
  jwt.setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 300);
  return jwt.sign(options.secret ?? key);
}

const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

/** The key with its last character changed (to one it is not: a fixed replacement would match 1 key in 64). */
const tampered = (key: string) => `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;

function call(url: string, name: string, args: Record<string, unknown>, headers: Record<string, string>, id = 1) {
  return raw(url, {
    headers: { ...modernHeaders('tools/call', name), ...headers },
    body: modernBody(id, 'tools/call', { name, arguments: args }),
  });
}

function list(url: string, headers: Record<string, string>) {
  return raw(url, { headers: { ...modernHeaders('tools/list'), ...headers }, body: modernBody(1, 'tools/list') });
}

function challenges(res: { headers: Record<string, string | string[] | undefined> }): string[] {
  const value = res.headers['www-authenticate'];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function assertRefused(res: { status: number; json(): any }, status: number, code: number): void {
  assert.equal(res.status, status);
  assert.equal(res.json().jsonrpc, '2.0');
  assert.equal(res.json().error.code, code);
}

describe('bearer JWT', () => {
  test('no credential: 401 with a challenge naming the resource metadata and scope; the metadata is served', async () => {
    await withServer(jwtAuth(), async (s) => {
      const res = await list(s.url, {});
      assertRefused(res, 401, -32001);
      assert.equal(res.json().error.message, 'Unauthorized: a credential is required (see WWW-Authenticate)');
      const origin = new URL(s.url).origin;
      assert.deepEqual(challenges(res), [
        `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp", scope="mcp"`,
      ]);
      for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
        const metadata = await raw(origin + path, { method: 'GET' });
        assert.equal(metadata.status, 200);
        assert.deepEqual(metadata.json(), {
          resource: `${origin}/mcp`,
          authorization_servers: [ISSUER],
          scopes_supported: ['mcp'],
          bearer_methods_supported: ['header'],
        });
      }
    });
  });

  test('a valid token is served; the handler sees the principal, never the token', async () => {
    await withServer(jwtAuth(), async (s) => {
      const jwt = await token({ jti: 'token-1', client_id: 'cli' });
      const res = await call(s.url, 'whoami', {}, bearer(jwt));
      assert.equal(res.status, 200);
      const info = JSON.parse(res.json().result.content[0].text);
      assert.equal(info.token, '[not forwarded]');
      assert.equal(info.clientId, 'cli');
      assert.deepEqual(info.scopes, ['mcp']);
      assert.deepEqual(info.extra.principal, {
        kind: 'jwt',
        subject: 'alice',
        scopes: ['mcp'],
        issuer: ISSUER,
        credentialId: 'token-1',
        expiresAt: info.expiresAt,
        clientId: 'cli',
      });
      assert.equal(res.body.includes(jwt), false);
    });
  });

  test('expired, wrong audience, wrong issuer, wrong signature, no subject, alg none: 401 invalid_token with the reason', async () => {
    await withServer(jwtAuth(), async (s) => {
      const now = Math.floor(Date.now() / 1000);
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(
        JSON.stringify({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, scope: 'mcp', exp: now + 300 }),
      ).toString('base64url');
      const cases: Array<[string, string]> = [
        [await token({}, { exp: now - 120 }), 'The token has expired'],
        [await token({}, { aud: 'https://other.test/mcp' }), 'The token was not issued for this server (aud)'],
        [
          await token({}, { iss: 'https://evil.test' }),
          'The token was issued by an issuer this server does not trust (iss)',
        ],
        [
          await token({}, { secret: new TextEncoder().encode('another-secret-that-is-long-enough-32b') }),
          'The token signature is invalid',
        ],
        [await token({}, { sub: null }), 'The token has no subject (sub)'],
        [`${header}.${payload}.`, 'The token is signed with an algorithm this server does not accept'],
        ['not-a-jwt', 'The token is not a valid JWT'],
      ];
      for (const [jwt, description] of cases) {
        const res = await call(s.url, 'echo', { text: 'x' }, bearer(jwt));
        assertRefused(res, 401, -32001);
        assert.equal(res.json().error.message, `Unauthorized: ${description}`);
        assert.match(
          challenges(res)[0]!,
          new RegExp(`error="invalid_token", error_description="${description.replace(/[()]/g, '\\$&')}"`),
        );
      }
      // Within the 30 s clock skew an expired token still passes.
      assert.equal((await call(s.url, 'echo', { text: 'x' }, bearer(await token({}, { exp: now - 10 })))).status, 200);
    });
  });

  test('HS/RS confusion: an HMAC token keyed with the RSA public key is refused; a real RS256 token passes', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    await withServer(
      { server: factory, auth: { jwt: { publicKey: pem, issuer: ISSUER, audience: AUDIENCE } } },
      async (s) => {
        const forged = await new SignJWT({ scope: 'mcp' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('mallory')
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(pem));
        const refused = await call(s.url, 'echo', { text: 'x' }, bearer(forged));
        assertRefused(refused, 401, -32001);
        assert.equal(
          refused.json().error.message,
          'Unauthorized: The token is signed with an algorithm this server does not accept',
        );
        const genuine = await new SignJWT({ scope: 'mcp' })
          .setProtectedHeader({ alg: 'RS256' })
          .setSubject('alice')
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .sign(privateKey);
        assert.equal((await call(s.url, 'echo', { text: 'x' }, bearer(genuine))).status, 200);
      },
    );
  });

  test('JWKS: a known kid passes, an unknown kid is 401, an unreachable JWKS is 503 with Retry-After', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    const keyServer: Server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
    );
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/jwks.json`;
    const sign = (kid: string) =>
      new SignJWT({ scope: 'mcp' })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setSubject('alice')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(privateKey);
    try {
      await withServer(
        { server: factory, auth: { jwt: { jwksUrl, issuer: ISSUER, audience: AUDIENCE } } },
        async (s) => {
          assert.equal((await call(s.url, 'echo', { text: 'x' }, bearer(await sign('k1')))).status, 200);
          const unknown = await call(s.url, 'echo', { text: 'x' }, bearer(await sign('k2')));
          assertRefused(unknown, 401, -32001);
          assert.equal(
            unknown.json().error.message,
            'Unauthorized: The token is signed with a key this server does not know',
          );
        },
      );
    } finally {
      keyServer.close();
    }
    await withServer(
      { server: factory, auth: { jwt: { jwksUrl, issuer: ISSUER, audience: AUDIENCE, jwksTimeoutMs: 500 } } },
      async (s) => {
        const res = await call(s.url, 'echo', { text: 'x' }, bearer(await sign('k1')));
        assertRefused(res, 503, -32603);
        assert.equal(res.headers['retry-after'], '5');
      },
    );
  });

  test('credentials in the query string are refused even when the header is valid', async () => {
    await withServer(jwtAuth(), async (s) => {
      const jwt = await token();
      for (const query of ['access_token=abc', 'api_key=abc', 'token=abc']) {
        const res = await raw(`${s.url}?${query}`, {
          headers: { ...modernHeaders('tools/list'), ...bearer(jwt) },
          body: modernBody(1, 'tools/list'),
        });
        assertRefused(res, 400, -32001);
        assert.equal(
          res.json().error.message,
          'Bad Request: credentials are not accepted in the query string; send them in the Authorization header',
        );
      }
    });
  });

  test('requiredScopes: a token without them is 403 insufficient_scope naming every scope needed', async () => {
    await withServer(jwtAuth({ requiredScopes: ['mcp', 'tools'] }), async (s) => {
      const res = await list(s.url, bearer(await token({ scope: 'mcp' })));
      assertRefused(res, 403, -32003);
      assert.match(
        challenges(res)[0]!,
        /^Bearer resource_metadata="[^"]+", scope="mcp tools", error="insufficient_scope"/,
      );
      assert.equal((await list(s.url, bearer(await token({ scope: 'mcp tools' })))).status, 200);
    });
  });
});

describe('API keys', () => {
  const keysFile = () => join(mkdtempSync(join(tmpdir(), 'remote-mcp-keys-')), 'keys.json');

  test('Authorization: ApiKey and X-API-Key are accepted; a wrong key is 401 with the ApiKey challenge', async () => {
    const file = keysFile();
    const minted = mintApiKey('ci', ['mcp']);
    writeKeysFile(file, { version: 1, keys: [minted.entry] });
    assert.equal(readFileSync(file, 'utf8').includes(minted.key), false);
    await withServer({ server: factory, auth: { apiKeys: { file } } }, async (s) => {
      const viaAuthorization = await call(s.url, 'whoami', {}, { authorization: `ApiKey ${minted.key}` });
      assert.equal(viaAuthorization.status, 200);
      assert.deepEqual(JSON.parse(viaAuthorization.json().result.content[0].text).extra.principal, {
        kind: 'api-key',
        subject: 'ci',
        scopes: ['mcp'],
        credentialId: minted.entry.id,
      });
      assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-api-key': minted.key })).status, 200);
      const wrong = await call(s.url, 'echo', { text: 'x' }, { 'x-api-key': tampered(minted.key) });
      assertRefused(wrong, 401, -32001);
      assert.deepEqual(
        challenges(wrong),
        ['Bearer realm="mcp"', 'ApiKey realm="mcp", error="invalid_token"'].filter((c) => c.startsWith('ApiKey')),
      );
      const none = await call(s.url, 'echo', { text: 'x' }, {});
      assert.deepEqual(challenges(none), ['ApiKey realm="mcp"']);
    });
  });

  test('keys create / revoke through the CLI: a revoked key stops working while the server runs', async () => {
    const file = keysFile();
    const created = spawnSync(
      process.execPath,
      ['build/src/cli/main.js', 'keys', 'create', '--name', 'deploy', '--scopes', 'mcp,ops', '--file', file],
      { encoding: 'utf8' },
    );
    assert.equal(created.status, 0, created.stderr);
    const apiKey = created.stdout.trim();
    assert.match(apiKey, /^rmcp_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(readFileSync(file, 'utf8').includes(apiKey), false);
    await withServer({ server: factory, auth: { apiKeys: { file } } }, async (s) => {
      assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-api-key': apiKey })).status, 200);
      const id = apiKey.split('_')[1]!;
      const revoked = spawnSync(process.execPath, ['build/src/cli/main.js', 'keys', 'revoke', id, '--file', file], {
        encoding: 'utf8',
      });
      assert.equal(revoked.status, 0, revoked.stderr);
      let status = 200;
      for (let attempt = 0; attempt < 40 && status === 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await call(s.url, 'echo', { text: 'x' }, { 'x-api-key': apiKey })).status;
      }
      assert.equal(status, 401);
      const listed = spawnSync(process.execPath, ['build/src/cli/main.js', 'keys', 'list', '--file', file], {
        encoding: 'utf8',
      });
      assert.match(listed.stdout, new RegExp(`^${id}  deploy  scopes: mcp ops  created \\S+  REVOKED \\S+$`, 'm'));
    });
  });

  test('serve --api-keys: 401 without the key, 200 with it; --jwt-issuer without a key source is refused', async () => {
    const file = keysFile();
    const minted = mintApiKey('cli', []);
    writeKeysFile(file, { version: 1, keys: [minted.entry] });
    const child = spawn(
      process.execPath,
      ['build/src/cli/main.js', 'serve', 'build/examples/demo-server.js', '--port', '0', '--api-keys', file],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REMOTE_MCP_JWT_SECRET: '' } },
    );
    try {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const url = await withTimeout(
        new Promise<string>((resolve) => {
          const poll = setInterval(() => {
            const match = /at (http:\/\/\S+)/.exec(out);
            if (match) clearInterval(poll), resolve(match[1]!);
          }, 20);
        }),
        10_000,
        'the CLI to print its URL',
      );
      assert.match(out, /-H 'x-api-key: <your key>'/);
      assert.equal((await list(url, {})).status, 401);
      assert.equal((await list(url, { 'x-api-key': minted.key })).status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    const refused = spawnSync(
      process.execPath,
      ['build/src/cli/main.js', 'serve', 'build/examples/demo-server.js', '--port', '0', '--jwt-issuer', ISSUER],
      {
        encoding: 'utf8',
        env: { ...process.env, REMOTE_MCP_JWT_SECRET: undefined } as NodeJS.ProcessEnv,
        timeout: 10_000,
      },
    );
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /--jwt-issuer and --jwt-audience need a JWT key source/);
  });
});

describe('custom authenticate hook', () => {
  test('accepts what it recognises; AuthenticationError refuses with its reason', async () => {
    const auth = {
      authenticate: (req: import('node:http').IncomingMessage) => {
        if (req.headers['x-team'] === 'blue') return { kind: 'custom' as const, subject: 'blue-team', scopes: ['mcp'] };
        if (req.headers['x-team'] !== undefined) throw new AuthenticationError('team not allowed');
        return undefined;
      },
    };
    await withServer({ server: factory, auth }, async (s) => {
      assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-team': 'blue' })).status, 200);
      const red = await call(s.url, 'echo', { text: 'x' }, { 'x-team': 'red' });
      assertRefused(red, 401, -32001);
      assert.equal(red.json().error.message, 'Unauthorized: team not allowed');
      assertRefused(await call(s.url, 'echo', { text: 'x' }, {}), 401, -32001);
    });
  });
});

describe('principal binding', () => {
  const sessionCall = (url: string, id: string, headers: Record<string, string>) =>
    raw(url, {
      headers: { ...LEGACY_HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });

  test("another principal presenting a 2025-era session id gets 404 for every method; the owner's session is unharmed", async () => {
    await withServer(jwtAuth(), async (s) => {
      const alice = bearer(await token({}, { sub: 'alice' }));
      const mallory = bearer(await token({}, { sub: 'mallory' }));
      const id = await openSession(s.url, '2025-11-25', {}, alice);
      assertRefused(await sessionCall(s.url, id, mallory), 404, -32600);
      assertRefused(
        await raw(s.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': id, ...mallory } }),
        404,
        -32600,
      );
      assertRefused(await raw(s.url, { method: 'DELETE', headers: { 'mcp-session-id': id, ...mallory } }), 404, -32600);
      const owner = await sessionCall(s.url, id, alice);
      assert.equal(owner.status, 200);
      assert.equal(owner.json().result.tools.length, 4);
    });
  });

  test('an HTTP+SSE session answers 404 to another principal', async () => {
    await withServer(jwtAuth(), async (s) => {
      const alice = bearer(await token({}, { sub: 'alice' }));
      const mallory = bearer(await token({}, { sub: 'mallory' }));
      const stream = await openStream(s.url.replace('/mcp', '/sse'), {
        method: 'GET',
        headers: { accept: 'text/event-stream', ...alice },
      });
      try {
        assert.equal(stream.status, 200);
        const endpoint = await stream.waitFor((event) => event.event === 'endpoint', 2000);
        const messages = new URL(s.url).origin + endpoint.data;
        const body = JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        });
        assertRefused(
          await raw(messages, { headers: { 'content-type': 'application/json', ...mallory }, body }),
          404,
          -32600,
        );
        assert.equal(
          (await raw(messages, { headers: { 'content-type': 'application/json', ...alice }, body })).status,
          202,
        );
        const answer = await stream.waitFor((event) => event.message?.id === 1, 2000);
        assert.equal(answer.message.result.protocolVersion, '2024-11-05');
      } finally {
        stream.destroy();
      }
    });
  });

  test('WebSocket: the upgrade is authenticated (401 with the challenge); an expiring token closes the socket with 1008', async () => {
    await withServer(jwtAuth(), async (s) => {
      const wsUrl = s.url.replace('http', 'ws');
      const refused = await new Promise<{ status: number; challenge: unknown }>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, ['mcp']);
        ws.on('unexpected-response', (_req, res) =>
          resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] }),
        );
        ws.on('open', () => reject(new Error('the upgrade was accepted without a credential')));
        ws.on('error', () => {});
      });
      assert.equal(refused.status, 401);
      assert.match(String(refused.challenge), /^Bearer resource_metadata="/);

      const soon = Math.floor(Date.now() / 1000) + 2;
      const ws = new WebSocket(wsUrl, ['mcp'], { headers: bearer(await token({}, { exp: soon })) });
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      await withTimeout(new Promise((resolve) => ws.on('open', resolve)), 2000, 'open');
      const answer = new Promise<any>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'whoami', arguments: {}, _meta: ENVELOPE },
        }),
      );
      assert.equal(
        JSON.parse((await withTimeout(answer, 2000, 'whoami')).result.content[0].text).extra.principal.subject,
        'alice',
      );
      assert.equal(await withTimeout(closed, 4000, 'the close at expiry'), 1008);
    });
  });
});

describe('authorization policy', () => {
  const policy = { tools: { 'admin_*': ['admin'], alice_only: ['subject:alice'] } };

  test('denied tools are hidden from tools/list in both eras and refused with 403', async () => {
    await withServer({ ...jwtAuth(), authorization: policy }, async (s) => {
      const bob = bearer(await token({ scope: 'mcp' }, { sub: 'bob' }));
      const names = (res: { json(): any }) =>
        res
          .json()
          .result.tools.map((tool: { name: string }) => tool.name)
          .sort();
      assert.deepEqual(names(await list(s.url, bob)), ['echo', 'whoami']);
      assert.deepEqual(names(await list(s.url, bearer(await token({ scope: 'mcp admin' }, { sub: 'alice' })))), [
        'admin_reset',
        'alice_only',
        'echo',
        'whoami',
      ]);
      const legacy = await raw(s.url, {
        headers: { ...LEGACY_HEADERS, ...bob },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      const session = legacy.headers['mcp-session-id'] as string;
      const legacyList = await raw(s.url, {
        headers: { ...LEGACY_HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25', ...bob },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      assert.deepEqual(names(legacyList), ['echo', 'whoami']);

      const admin = await call(s.url, 'admin_reset', {}, bob);
      assertRefused(admin, 403, -32003);
      assert.deepEqual(admin.json().error.data, { requiredScopes: ['admin'] });
      assert.match(challenges(admin)[0]!, /scope="admin", error="insufficient_scope"/);
      const aliceOnly = await call(s.url, 'alice_only', {}, bob);
      assertRefused(aliceOnly, 403, -32003);
      assert.equal(aliceOnly.json().error.message, 'Forbidden: this principal may not use alice_only');
      assert.equal(
        (await call(s.url, 'admin_reset', {}, bearer(await token({ scope: 'mcp admin' }, { sub: 'carol' })))).status,
        200,
      );
      assert.equal((await call(s.url, 'alice_only', {}, bearer(await token({}, { sub: 'alice' })))).status, 200);
    });
  });

  test('over WebSocket a denied call is a JSON-RPC error and the socket stays open', async () => {
    await withServer({ ...jwtAuth(), authorization: policy }, async (s) => {
      const ws = new WebSocket(s.url.replace('http', 'ws'), ['mcp'], {
        headers: bearer(await token({}, { sub: 'bob' })),
      });
      await withTimeout(new Promise((resolve) => ws.on('open', resolve)), 2000, 'open');
      const answers: any[] = [];
      ws.on('message', (data) => answers.push(JSON.parse(data.toString())));
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'admin_reset', arguments: {}, _meta: ENVELOPE },
        }),
      );
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'still here' }, _meta: ENVELOPE },
        }),
      );
      await withTimeout(
        new Promise<void>((resolve) => {
          const poll = setInterval(() => answers.length === 2 && (clearInterval(poll), resolve()), 10);
        }),
        2000,
        'both answers',
      );
      const byId = new Map(answers.map((answer) => [answer.id, answer]));
      assert.equal(byId.get(1).error.code, -32003);
      assert.deepEqual(byId.get(1).error.data, { requiredScopes: ['admin'] });
      assert.equal(byId.get(2).result.content[0].text, 'still here');
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.close();
    });
  });

  test('authorization without auth is refused at construction', async () => {
    const { createRemoteServer } = await import('../src/index.js');
    assert.throws(
      () => createRemoteServer({ server: factory, authorization: policy }),
      /option `authorization` needs `auth`/,
    );
  });
});

describe('the official v2 client', () => {
  test('with a bearer header it lists and calls tools; without one, connect fails on the 401', async () => {
    await withServer(jwtAuth(), async (s) => {
      const client = new Client({ name: 'auth-test-client', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: bearer(await token()) } }),
      );
      try {
        assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name).sort(), [
          'admin_reset',
          'alice_only',
          'echo',
          'whoami',
        ]);
        const result = await client.callTool({ name: 'echo', arguments: { text: 'authenticated' } });
        assert.deepEqual(result.content, [{ type: 'text', text: 'authenticated' }]);
      } finally {
        await client.close();
      }
      const anonymous = new Client({ name: 'anonymous', version: '1.0.0' });
      await assert.rejects(
        withTimeout(anonymous.connect(new StreamableHTTPClientTransport(new URL(s.url))), 5000, 'connect'),
      );
    });
  });
});
