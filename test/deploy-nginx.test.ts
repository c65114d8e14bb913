/**
 * What deploy/nginx/nginx.conf does with requests, shown with the real nginx (test/support/nginx.ts) in front of
 * tiny node:http upstreams that each record what reached them: which retries happen (a 503, a refused connect)
 * and which must not (a POST the instance had read before its connection broke), and that streams pass through
 * unbuffered. remote-mcp itself is not needed for these; the cluster tests run it behind the same file.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';

import { WebSocket, WebSocketServer } from 'ws';

import { DEFAULTS, ERRORS } from '../src/index.js';
import { clientIp, resolveTrustProxy } from '../src/security/client-ip.js';
import { modernHeaders, raw, start, withTimeout } from './helpers.js';
import { startNginx, type RunningNginx } from './support/nginx.js';
import { nginxMissing } from './support/binaries.js';
import { freePort } from './support/ports.js';
/** Skipped without the program outside CI (test/support/binaries.ts). */
const NGINX_MISSING = nginxMissing();

/** Bound on every wait for something that arrives through nginx. */
const WAIT_MS = 5_000;
/** Most requests a test sends to reach a given upstream through the round-robin. */
const MAX_TRIES = 10;

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Upstream {
  address: string;
  server: Server;
  /** Every request that reached it, in order, with its body and headers. */
  seen: { method: string; url: string; body: string; headers: IncomingMessage['headers']; req: IncomingMessage }[];
  close(): Promise<void>;
}

/** A node:http upstream on 127.0.0.1:0 that records each request (body read in full) and hands it to `handle`. */
async function upstream(handle: Handler): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method!, url: req.url!, body, headers: req.headers, req });
    handle(req, res, body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const echo: Handler = (_req, res, body) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
};

/** What a remote-mcp that cannot serve answers: 503, nothing ran, the connection closes. */
const draining: Handler = (_req, res) => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'draining' } });
  res.writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': '1' }).end(body);
};

/** A port nothing listens on, as nginx's upstream address. */
const closedPort = async () => `127.0.0.1:${await freePort()}`;

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** nginx in front of these upstreams, stopped (and they closed) after the tests. */
async function cluster(...upstreams: (Upstream | string)[]): Promise<RunningNginx> {
  for (const one of upstreams) if (typeof one !== 'string') cleanups.push(() => one.close());
  const nginx = await startNginx({
    upstreams: upstreams.map((one) => (typeof one === 'string' ? one : one.address)),
  });
  cleanups.push(() => nginx.stop());
  return nginx;
}

/** A POST through nginx, resolved as soon as its response headers arrive (the body is read by the caller). */
const postHeaders = (nginx: RunningNginx, what: string) =>
  withTimeout(
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${nginx.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      req.on('response', resolve).on('error', reject).end('{}');
    }),
    WAIT_MS,
    what,
  );

const post = (nginx: RunningNginx, body: string, path = '/mcp') =>
  withTimeout(
    raw(`${nginx.url}${path}`, { body, headers: { 'content-type': 'application/json' } }),
    WAIT_MS,
    `POST ${body} through nginx`,
  );

test('a POST answered 503 is sent once more, to the other instance, and the client sees its 200', {
  skip: NGINX_MISSING,
}, async () => {
  // As remote-mcp drains: its listener is closed before it answers its first 503 (net.Server's close: the
  // connection the request came on stays open for the answer).
  const drainingOne: Upstream = await upstream((req, res, body) => {
    if (drainingOne.server.listening) NetServer.prototype.close.call(drainingOne.server);
    draining(req, res, body);
  });
  const healthy = await upstream(echo);
  const nginx = await cluster(drainingOne, healthy);
  for (let i = 0; i < MAX_TRIES && drainingOne.seen.length === 0; i++) {
    const body = JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call' });
    const response = await post(nginx, body);
    assert.equal(response.status, 200);
    assert.equal(response.body, body);
  }
  assert.equal(drainingOne.seen.length, 1, 'the round-robin reached the draining instance');
  // The body the draining instance answered 503 reached the healthy one, whole, exactly once more.
  const refused = drainingOne.seen[0]!.body;
  assert.deepEqual(
    healthy.seen.filter((one) => one.body === refused).map((one) => one.method),
    ['POST'],
  );
  // "503 : 200", or "503 : 502, 200" when the retry's fresh connect was refused by the draining one first.
  assert.ok(
    nginx.accessLog().some((line) => /upstream_status=503 : (502, )?200 /.test(line)),
    nginx.accessLog().join('\n'),
  );
});

test('a second 503 reaches the client as the instance sent it: the retry does not loop', {
  skip: NGINX_MISSING,
}, async () => {
  const first = await upstream(draining);
  const second = await upstream(draining);
  const nginx = await cluster(first, second);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call' });
  const response = await post(nginx, body);
  assert.equal(response.status, 503);
  assert.equal(response.headers['retry-after'], '1');
  assert.deepEqual(response.json(), { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'draining' } });
  // One try each: the first try and the one retry.
  assert.deepEqual(
    [...first.seen, ...second.seen].map((one) => one.body),
    [body, body],
  );
});

test('a POST to an instance that refuses connections goes to the other', { skip: NGINX_MISSING }, async () => {
  const healthy = await upstream(echo);
  const nginx = await cluster(await closedPort(), healthy);
  const bodies = [1, 2, 3].map((id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call' }));
  for (const body of bodies) {
    const response = await post(nginx, body);
    assert.equal(response.status, 200);
    assert.equal(response.body, body);
  }
  assert.deepEqual(
    healthy.seen.map((one) => one.body),
    bodies,
  );
});

test('a POST whose connection breaks after the instance read it is not re-sent: the client gets 502', {
  skip: NGINX_MISSING,
}, async () => {
  // The instance read the whole request (it may have started the tool call), then died.
  const dying = await upstream((req) => req.socket.destroy());
  const healthy = await upstream(echo);
  const nginx = await cluster(dying, healthy);
  const answers = new Map<string, number>();
  for (let i = 0; i < MAX_TRIES && dying.seen.length === 0; i++) {
    const body = JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call' });
    answers.set(body, (await post(nginx, body)).status);
  }
  assert.equal(dying.seen.length, 1, 'the round-robin reached the dying instance');
  const lost = dying.seen[0]!.body;
  assert.equal(answers.get(lost), 502);
  assert.equal(
    healthy.seen.some((one) => one.body === lost),
    false,
    'the request the dying instance had read reached no other instance',
  );
  for (const [body, status] of answers) if (body !== lost) assert.equal(status, 200);
});

test('SSE passes through unbuffered: the first event arrives while the instance still holds the stream', {
  skip: NGINX_MISSING,
}, async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  // No X-Accel-Buffering header here: the shipped configuration alone must let the event through.
  const streaming = await upstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('event: message\ndata: {"first":true}\n\n');
    released.then(() => res.end('event: message\ndata: {"last":true}\n\n'));
  });
  const nginx = await cluster(streaming);
  const response = await postHeaders(nginx, 'the SSE response headers');
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers['content-type'], 'text/event-stream');
  response.setEncoding('utf8');
  let received = '';
  const ended = once(response, 'end');
  await withTimeout(
    new Promise<void>((resolve) => {
      response.on('data', (chunk: string) => {
        received += chunk;
        if (received.includes('\n\n')) resolve();
      });
    }),
    WAIT_MS,
    'the first event before the instance ends the stream (nginx buffered it)',
  );
  assert.equal(received, 'event: message\ndata: {"first":true}\n\n');
  release();
  await withTimeout(ended, WAIT_MS, 'the end of the stream');
  assert.equal(received, 'event: message\ndata: {"first":true}\n\nevent: message\ndata: {"last":true}\n\n');
});

test('a client that stops reading holds its stream back at the instance: nginx does not absorb it on disk', {
  skip: NGINX_MISSING,
}, async (t) => {
  // Buffered, nginx would read ahead into temp files (up to 1 GiB per response) and the instance would never see
  // its slow client: remote-mcp's maxStreamBufferBytes only works if the back-pressure reaches it.
  const CHUNK = Buffer.alloc(1024 * 1024, 'x');
  const TOTAL_CHUNKS = 64;
  /** A write not drained for this long means the path to the client is full. */
  const QUIET_MS = 300;
  let accepted = 0;
  let done!: (chunks: number) => void;
  const stalled = new Promise<number>((resolve) => (done = resolve));
  const streaming = await upstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < TOTAL_CHUNKS; i++) {
      if (!res.write(CHUNK)) {
        let timer: NodeJS.Timeout | undefined;
        const drained = await Promise.race([
          once(res, 'drain').then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), QUIET_MS))),
        ]);
        clearTimeout(timer);
        if (!drained) return done(accepted);
      }
      accepted++;
    }
    done(accepted);
  });
  const nginx = await cluster(streaming);
  const response = await postHeaders(nginx, 'the stream response headers');
  response.pause(); // the slow client: it reads nothing more
  cleanups.push(async () => {
    response.destroy();
    streaming.server.closeAllConnections();
  });
  // A false stall (a loaded machine) can only make this pass early, never fail: the bound holds either way.
  const chunks = await withTimeout(stalled, 20_000, 'the instance to stall or send everything');
  t.diagnostic(`the instance could send ${chunks} MiB before the path to the client was full`);
  assert.ok(
    chunks < TOTAL_CHUNKS / 2,
    `${chunks} MiB of ${TOTAL_CHUNKS} left the instance toward a client that reads nothing`,
  );
});

test('a WebSocket upgrade on /mcp passes through, subprotocol included', { skip: NGINX_MISSING }, async () => {
  const target = await upstream(echo);
  const sockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => protocols.has('mcp') && 'mcp',
  });
  target.server.on('upgrade', (req, socket, head) => {
    target.seen.push({ method: 'UPGRADE', url: req.url!, body: '', headers: req.headers, req });
    sockets.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(`echo ${String(data)}`)));
  });
  cleanups.push(async () => {
    for (const client of sockets.clients) client.terminate();
    sockets.close();
  });
  const nginx = await cluster(target);
  const ws = new WebSocket(`ws://127.0.0.1:${nginx.port}/mcp`, 'mcp');
  cleanups.push(async () => ws.terminate());
  await withTimeout(once(ws, 'open'), WAIT_MS, 'the WebSocket handshake through nginx');
  assert.equal(ws.protocol, 'mcp');
  ws.send('hello');
  const [reply] = await withTimeout(once(ws, 'message'), WAIT_MS, 'the echo through nginx');
  assert.equal(String(reply), 'echo hello');
  assert.deepEqual(
    target.seen.map((one) => [one.method, one.url, one.headers.upgrade]),
    [['UPGRADE', '/mcp', 'websocket']],
  );
  ws.close();
});

test('nginx forwards the Host as sent and X-Forwarded-For/-Proto/-Host; --trust-proxy 1 takes the address nginx saw', {
  skip: NGINX_MISSING,
}, async () => {
  const target = await upstream(echo);
  const nginx = await cluster(target);
  // A client forging its address: the header it sends comes first in the chain, before what nginx appends.
  const response = await raw(`${nginx.url}/mcp`, {
    body: '{}',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
  });
  assert.equal(response.status, 200);
  const [seen] = target.seen;
  assert.equal(seen!.headers.host, `127.0.0.1:${nginx.port}`);
  assert.equal(seen!.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  assert.equal(seen!.headers['x-forwarded-proto'], 'http');
  assert.equal(seen!.headers['x-forwarded-host'], '127.0.0.1');
  // No Upgrade, so no Connection header: the connection to the instance stays reusable.
  assert.equal(seen!.headers.connection, undefined);
  assert.equal(clientIp(seen!.req, resolveTrustProxy(1)), '127.0.0.1');
  assert.equal(clientIp(seen!.req, resolveTrustProxy(true)), '203.0.113.9', 'trustProxy true believes the forgery');
});

test('bodies up to maxBodyBytes pass; a larger one gets remote-mcp’s own 413 from nginx, never reaching an instance', {
  skip: NGINX_MISSING,
}, async () => {
  const target = await upstream((_req, res, body) => res.writeHead(200).end(String(body.length)));
  const nginx = await cluster(target);
  const fits = await post(nginx, 'x'.repeat(DEFAULTS.maxBodyBytes));
  assert.equal(fits.status, 200);
  assert.equal(fits.body, String(DEFAULTS.maxBodyBytes));
  const tooLarge = await post(nginx, 'x'.repeat(DEFAULTS.maxBodyBytes + 1));
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.headers['content-type'], 'application/json');
  assert.deepEqual(tooLarge.json(), {
    jsonrpc: '2.0',
    id: null,
    // What remote-mcp answers itself (src/transport/http-handler.ts), byte for byte.
    error: {
      code: ERRORS.BODY_TOO_LARGE.rpcCode,
      message: `${ERRORS.BODY_TOO_LARGE.message} (${DEFAULTS.maxBodyBytes} bytes)`,
    },
  });
  assert.equal(target.seen.length, 1);
  // And remote-mcp, reached directly, answers the same.
  const direct = await start();
  cleanups.push(() => direct.close());
  const own = await raw(direct.url, {
    headers: modernHeaders('tools/list'),
    body: 'x'.repeat(DEFAULTS.maxBodyBytes + 1),
  });
  assert.equal(own.status, 413);
  assert.deepEqual(own.json(), tooLarge.json());
});

test('/metrics is not served through the balancer; /health and /ready are', { skip: NGINX_MISSING }, async () => {
  const target = await upstream((req, res) => res.writeHead(200).end(req.url));
  const nginx = await cluster(target);
  assert.equal((await raw(`${nginx.url}/metrics`, { method: 'GET' })).status, 404);
  for (const path of ['/health', '/ready']) {
    const response = await raw(`${nginx.url}${path}`, { method: 'GET' });
    assert.equal(response.status, 200);
    assert.equal(response.body, path);
  }
  assert.deepEqual(
    target.seen.map((one) => one.url),
    ['/health', '/ready'],
  );
});

test('reload() swaps the upstreams of a running nginx', { skip: NGINX_MISSING }, async () => {
  const before = await upstream((_req, res) => res.writeHead(200).end('before'));
  const afterReload = await upstream((_req, res) => res.writeHead(200).end('after'));
  const nginx = await cluster(before);
  cleanups.push(() => afterReload.close());
  assert.equal((await raw(`${nginx.url}/health`, { method: 'GET' })).body, 'before');
  await nginx.reload([afterReload.address]);
  for (let i = 0; i < 3; i++) assert.equal((await raw(`${nginx.url}/health`, { method: 'GET' })).body, 'after');
});
