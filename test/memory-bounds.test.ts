/**
 * Bounded memory per client: interned initialize identities and idle pooled instances bounded by bytes and
 * released with their sessions, the event store bounded by bytes per stream and per session, authorization
 * patterns that match in linear time, and audit lines of bounded size. Real servers, raw requests; what the
 * server holds is read from its /health report (the `legacySessions` and `eventStore` checks).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Authorizer } from '../src/security/authorization.js';
import { LEGACY_HEADERS, openSession, raw, sessionHeaders, start, withServer, withTimeout } from './helpers.js';

async function initialize(url: string, params: Record<string, unknown>): Promise<string> {
  const res = await raw(url, {
    headers: LEGACY_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params }),
  });
  assert.equal(res.status, 200, res.body.slice(0, 200));
  return res.headers['mcp-session-id'] as string;
}

const call = (id: number | string, name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('authorization patterns', () => {
  test('`*` matches any run (none, across `/`, line breaks); other characters match themselves; exact wins', () => {
    const authorizer = new Authorizer({
      resources: { '*/private/*.key': ['secrets'], 'a.b*': ['dots'] },
      tools: { 'admin_*': ['admin'], admin_status: ['ops'], '*_debug': ['debug'] },
    });
    const nobody = { kind: 'custom' as const, subject: 'nobody', scopes: [] };
    const denied = (kind: 'tools' | 'resources', name: string) =>
      authorizer.decide(kind, name, nobody, 'custom:nobody').allowed === false;
    assert.equal(denied('resources', 'file:///srv/private/a.key'), true);
    assert.equal(denied('resources', 'file:///srv/private/deep/er/a.key'), true, '`*` crosses `/`');
    assert.equal(denied('resources', '/private/.key'), true, '`*` matches the empty run');
    assert.equal(denied('resources', 'x/private/a\n.key'), true, '`*` matches line breaks');
    assert.equal(denied('resources', 'file:///srv/private/a.keys'), false);
    assert.equal(denied('resources', 'file:///srv/public/a.key'), false);
    assert.equal(denied('resources', 'private/a.key'), false, 'the `/` before `private` is literal');
    assert.equal(denied('resources', 'a.bc'), true);
    assert.equal(denied('resources', 'axbc'), false, '`.` is literal');
    assert.deepEqual(authorizer.decide('tools', 'admin_status', nobody, undefined), {
      allowed: false,
      scopes: ['ops'],
    });
    assert.deepEqual(authorizer.decide('tools', 'admin_debug', nobody, undefined), {
      allowed: false,
      scopes: ['admin'],
    });
    assert.equal(denied('tools', 'user_debug'), true);
    assert.equal(denied('tools', 'echo'), false);
  });

  test('a "*/private/*.key" rule decides 180 KB URIs at once, and other requests are answered meanwhile', async () => {
    await withServer(
      {
        auth: { authenticate: () => ({ kind: 'custom', subject: 'alice', scopes: [] }) },
        authorization: { resources: { '*/private/*.key': ['secrets'] } },
      },
      async (s) => {
        const id = await openSession(s.url);
        const read = (n: number, uri: string) =>
          raw(s.url, {
            headers: sessionHeaders(id),
            body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'resources/read', params: { uri } }),
          });
        // Full of near-matches: the backtracking regular expression took seconds for each of these.
        const near = `file://${'/private/'.repeat(20_000)}`;
        const hit = `file:///srv${'/private/'.repeat(20_000)}id.key`;
        assert.ok(near.length >= 180_000 && hit.length >= 180_000);
        const answers = await withTimeout(
          Promise.all([
            ...[1, 2, 3, 4, 5, 6].map((n) => read(n, `${near}${n}`)),
            read(7, hit),
            raw(s.url, { headers: sessionHeaders(id), body: call(8, 'echo', { text: 'meanwhile' }) }),
          ]),
          5000,
          'the requests with long URIs and the one beside them',
        );
        for (const res of answers.slice(0, 6)) {
          // Not governed by the rule: the server itself answers that there is no such resource.
          assert.equal(res.status, 200);
          assert.equal(typeof res.json().error.code, 'number');
        }
        assert.equal(answers[6]!.status, 403);
        assert.deepEqual(answers[6]!.json().error.data, { requiredScopes: ['secrets'] });
        assert.deepEqual(answers[7]!.json().result.content, [{ type: 'text', text: 'meanwhile' }]);
      },
    );
  });
});

describe('audit line size', () => {
  test('every line is JSON of at most audit.maxLineBytes: 1 MB method, URI and id, a big argument, rate-limited floods', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-audit-size-'));
    const file = join(dir, 'audit.log');
    const maxLineBytes = 8192;
    const s = await start({
      audit: { destination: file, includeArguments: true, maxLineBytes },
      rateLimits: { perPrincipal: { points: 6, durationSeconds: 60 } },
    });
    const big = (letter: string) => letter.repeat(1_000_000);
    try {
      const id = await initialize(s.url, {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'a', version: '1' },
      });
      const post = (message: unknown) => raw(s.url, { headers: sessionHeaders(id), body: JSON.stringify(message) });
      const manyKeys = Object.fromEntries(Array.from({ length: 2000 }, (_, n) => [`k${n}`, 'v'.repeat(500)]));
      await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: manyKeys } });
      await post({ jsonrpc: '2.0', id: 3, method: big('m') });
      await post({ jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: big('u') } });
      await post({
        jsonrpc: '2.0',
        id: big('i'),
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x' } },
      });
      // The rate limit refuses these before any input limit looks at them.
      for (let n = 0; n < 4; n++) await post({ jsonrpc: '2.0', id: 10 + n, method: big('r') });
    } finally {
      await s.close();
    }
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').filter((line) => line.length > 0);
    assert.equal(lines.length, 9);
    for (const line of lines) assert.ok(Buffer.byteLength(`${line}\n`) <= maxLineBytes, `a line of ${line.length}`);
    const entries = lines.map((line) => JSON.parse(line));
    const budget = maxLineBytes / 16;
    const cutAt = (letter: string) => `${letter.repeat(budget)}…[truncated ${1_000_000 - budget} bytes]`;
    const [, args, method, uri, rpcId, ...flood] = entries;
    assert.equal(typeof args.arguments, 'string');
    assert.ok(args.arguments.startsWith('{"k0":"vvv'));
    assert.match(args.arguments, /…\[truncated \d+ bytes\]$/);
    assert.equal(method.method, cutAt('m'));
    assert.equal(method.outcome, 'error');
    assert.equal(uri.name, cutAt('u'));
    assert.equal(rpcId.rpcId, cutAt('i'));
    assert.equal(rpcId.outcome, 'ok');
    assert.deepEqual(
      flood.map((entry) => entry.outcome),
      ['error', 'rate-limited', 'rate-limited', 'rate-limited'],
    );
    for (const entry of flood) assert.equal(entry.method, cutAt('r'));
    // Every field a line carries is documented in docs/security.md's audit log section.
    const doc = readFileSync('docs/security.md', 'utf8');
    const section = doc.slice(doc.indexOf('## Audit log'), doc.indexOf('\n## ', doc.indexOf('## Audit log') + 1));
    for (const key of new Set(entries.flatMap((entry) => Object.keys(entry))))
      assert.ok(section.includes(`| \`${key}\` |`), `docs/security.md's audit log section has no row for ${key}`);
  });
});
