/** Options are validated at construction with messages that name the option, the expectation and the value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { McpServer } from '@modelcontextprotocol/server';

import { createRemoteServer, RemoteMcpOptionError, RemoteMcpSdkError, type RemoteServerOptions } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';

function refused(options: unknown, message: RegExp): void {
  assert.throws(
    () => createRemoteServer(options as RemoteServerOptions),
    (error: unknown) => {
      assert.ok(error instanceof RemoteMcpOptionError, `expected RemoteMcpOptionError, got ${String(error)}`);
      assert.equal(error.code, 'REMOTE_MCP_INVALID_OPTION');
      assert.match(error.message, message);
      return true;
    },
  );
}

test('a missing factory is refused', () => {
  refused(
    {},
    /option `server` must be a function returning an McpServer or Server \(or give `stdio` or `upstream`\); received undefined undefined/,
  );
  refused(
    { server: new McpServer({ name: 'x', version: '1' }) },
    /option `server` must be a function .*received an object/,
  );
});

test('stdio: a command is required, its limits are checked, and it excludes server', () => {
  refused({ stdio: {} }, /option `stdio.command` must be a non-empty string; received undefined/);
  refused({ stdio: 'npx server' }, /option `stdio` must be an object with a command; received "npx server"/);
  refused({ stdio: { command: 'x', args: 'a b' } }, /option `stdio.args` must be an array of strings/);
  refused({ stdio: { command: 'x', isolation: 'process' } }, /option `stdio.isolation` must be "shared" or "session"/);
  refused(
    { stdio: { command: 'x', maxLineBytes: 10 } },
    /option `stdio.maxLineBytes` must be an integer >= 1024; received 10/,
  );
  refused(
    { stdio: { command: 'x', maxChildren: 2, poolSize: 3 } },
    /option `stdio.poolSize` must be at most stdio.maxChildren \(2\)/,
  );
  refused({ stdio: { command: 'x', timeout: 1 } }, /option `stdio.timeout` must be one of command, args/);
  refused(
    { server: createDemoServer, stdio: { command: 'x' } },
    /give one of `server` \(a factory\), `stdio` \(a program to run\) or `upstream` \(a URL to proxy\), not several/,
  );
});

test('upstream: an http(s) or ws(s) URL, string headers, limits >= 1', () => {
  refused({ upstream: {} }, /option `upstream.url` must be an absolute http\(s\):\/\/ or ws\(s\):\/\/ URL/);
  refused({ upstream: { url: 'ftp://x/mcp' } }, /option `upstream.url` must be an http\(s\):\/\/ or ws\(s\):\/\/ URL/);
  refused(
    { upstream: { url: 'http://x/mcp', headers: { a: 1 } } },
    /option `upstream.headers` must be an object of string values/,
  );
  refused(
    { upstream: { url: 'http://x/mcp', maxSessions: 0 } },
    /option `upstream.maxSessions` must be an integer >= 1; received 0/,
  );
  refused(
    { stdio: { command: 'x' }, upstream: { url: 'http://x/mcp' } },
    /give one of `server` \(a factory\), `stdio` \(a program to run\) or `upstream` \(a URL to proxy\), not several/,
  );
});

test('limits must be integers in range', () => {
  refused(
    { server: createDemoServer, maxBodyBytes: 0 },
    /option `maxBodyBytes` must be an integer >= 1; received number 0/,
  );
  refused(
    { server: createDemoServer, maxSessions: 1.5 },
    /option `maxSessions` must be an integer >= 1; received number 1.5/,
  );
  refused(
    { server: createDemoServer, keepAliveMs: '1000' },
    /option `keepAliveMs` must be an integer >= 0; received the string "1000"/,
  );
});

test('other option types are checked', () => {
  refused({ server: createDemoServer, path: 'mcp' }, /option `path` must be a path starting with "\/"/);
  refused(
    { server: createDemoServer, responseMode: 'stream' },
    /option `responseMode` must be "auto", "json" or "sse"; received the string "stream"/,
  );
  refused({ server: createDemoServer, legacy: 'yes' }, /option `legacy` must be a boolean/);
  refused(
    { server: createDemoServer, allowedHosts: 'localhost' },
    /option `allowedHosts` must be an array of non-empty strings; received the string "localhost"/,
  );
  refused(
    { server: createDemoServer, requestStateKey: 'short' },
    /option `requestStateKey` must be at least 32 bytes long; received 5 bytes\./,
  );
  refused(
    { server: createDemoServer, sessionStore: {} },
    /option `sessionStore` must be an object with methods create, get, touch/,
  );
});

test('unknown options are refused with the list of known ones', () => {
  refused({ server: createDemoServer, maxSesions: 5 }, /unknown option `maxSesions`; known options: .*maxSessions/);
});

test('a factory that returns an instance already connected elsewhere fails ready and answers 500', async () => {
  const shared = createDemoServer();
  const first = createRemoteServer({ server: () => shared, onError: () => {} });
  await first.ready;
  const second = createRemoteServer({ server: () => shared, onError: () => {} });
  await assert.rejects(
    second.ready,
    (error: unknown) => error instanceof RemoteMcpSdkError && /already connected/.test(error.message),
  );
  await assert.rejects(second.listen({ port: 0 }), RemoteMcpSdkError);
  await first.close();
  await second.close();
});
