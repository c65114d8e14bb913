/**
 * Bounded memory per client: interned initialize identities and idle pooled instances bounded by bytes and
 * released with their sessions, the event store bounded by bytes per stream and per session, authorization
 * patterns that match in linear time, and audit lines of bounded size. Real servers, raw requests; what the
 * server holds is read from its /health report (the `legacySessions` and `eventStore` checks).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Authorizer } from '../src/security/authorization.js';
import { openSession, raw, sessionHeaders, withServer, withTimeout } from './helpers.js';

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
