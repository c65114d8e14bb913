/** The handler mounts on a user's own http.Server, express style, and the package exports resolve. */
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createRemoteServer } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';
import { modernBody, modernHeaders, raw } from './helpers.js';

test('remote.handler serves the endpoint on a user http.Server and passes other paths to next()', async () => {
  const remote = createRemoteServer({ server: createDemoServer });
  const http = createServer((req, res) =>
    remote.handler(req, res, () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('the app');
    }),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  try {
    const mcp = await raw(`${base}/mcp`, {
      headers: modernHeaders('tools/call', 'echo'),
      body: modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'mounted' } }),
    });
    assert.equal(mcp.json().result.content[0].text, 'mounted');
    const other = await raw(`${base}/app/page`, { method: 'GET' });
    assert.equal(other.status, 200);
    assert.equal(other.body, 'the app');
    // The probe routes are remote-mcp's unless `health: false` (or other paths) leaves them to the app.
    const health = await raw(`${base}/health`, { method: 'GET' });
    assert.equal(health.status, 200);
    assert.equal(health.json().status, 'ok');
  } finally {
    await remote.close();
    await new Promise((resolve) => http.close(resolve));
  }
});

test("remote.clientError answers a user http.Server's parser refusals like every other refusal", async () => {
  const remote = createRemoteServer({ server: createDemoServer });
  const http = createServer({ requireHostHeader: false }, (req, res) => remote.handler(req, res));
  http.on('clientError', remote.clientError);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    const socket = connect((http.address() as AddressInfo).port, '127.0.0.1');
    socket.end('NOT A REQUEST LINE\r\n\r\n');
    let answer = '';
    for await (const chunk of socket) answer += String(chunk);
    const [head, body] = answer.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(head!, /\r\nx-content-type-options: nosniff\r\n/i);
    assert.equal(JSON.parse(body!).error.code, -32600);
    // Without the listener Node answers a bare 400 with no body: the difference is remote-mcp's.
  } finally {
    await remote.close();
    await new Promise((resolve) => http.close(resolve));
  }
});

test('the package exports "." and "./server" resolve to the same API', async () => {
  const root = await import('remote-mcp');
  const server = await import('remote-mcp/server');
  assert.equal(typeof root.createRemoteServer, 'function');
  assert.equal(root.createRemoteServer, server.createRemoteServer);
  assert.deepEqual(Object.keys(root).sort(), Object.keys(server).sort());
});
