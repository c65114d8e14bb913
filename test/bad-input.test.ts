/**
 * Malformed requests sent raw: each gets its exact HTTP status and JSON-RPC error, and the server keeps
 * serving well-formed requests afterwards.
 */
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ENVELOPE,
  LEGACY_HEADERS,
  modernBody,
  modernHeaders,
  openSession,
  raw,
  type RawResponse,
  sessionHeaders,
  start,
  type Started,
  withServer,
} from './helpers.js';

let s: Started;
before(async () => {
  s = await start({ maxBodyBytes: 2048, maxBatchLength: 3 });
});
after(async () => {
  await s.close();
});

/** A well-formed call must still work after every bad request. */
async function assertStillServing(): Promise<void> {
  const res = await raw(s.url, {
    headers: modernHeaders('tools/call', 'echo'),
    body: modernBody(99, 'tools/call', { name: 'echo', arguments: { text: 'alive' } }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.json().result.content[0].text, 'alive');
}

function assertError(res: RawResponse, status: number, code: number, id: string | number | null = null): void {
  assert.equal(res.status, status, res.body);
  assert.equal(res.headers['content-type'], 'application/json');
  const body = res.json();
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, id);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
}

describe('bodies', () => {
  test('invalid JSON is 400 / -32700', async () => {
    assertError(
      await raw(s.url, { headers: modernHeaders('tools/list'), body: '{"jsonrpc": "2.0", "id": 1,' }),
      400,
      -32700,
    );
    await assertStillServing();
  });

  test('JSON that is not a JSON-RPC message is 400 / -32600', async () => {
    for (const body of ['{"hello":1}', '[]', '42', '"text"', 'null', '{"jsonrpc":"2.0","id":{}}']) {
      assertError(await raw(s.url, { headers: LEGACY_HEADERS, body }), 400, -32600);
    }
    await assertStillServing();
  });

  test('an empty body is 400 / -32700', async () => {
    assertError(await raw(s.url, { headers: modernHeaders('tools/list'), body: '' }), 400, -32700);
  });

  test('a body over maxBodyBytes is 413; one at exactly the limit is read', async () => {
    const padding = (size: number) => {
      const base = modernBody(1, 'tools/call', { name: 'echo', arguments: { text: '' } });
      return modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'x'.repeat(size - base.length) } });
    };
    const atLimit = padding(2048);
    assert.equal(Buffer.byteLength(atLimit), 2048);
    const ok = await raw(s.url, { headers: modernHeaders('tools/call', 'echo'), body: atLimit });
    assert.equal(ok.status, 200);
    const over = padding(2049);
    assertError(await raw(s.url, { headers: modernHeaders('tools/call', 'echo'), body: over }), 413, -32600);
    await assertStillServing();
  });

  test('a body over the limit without Content-Length (chunked) is 413 too', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(s.port, '127.0.0.1', () => {
        const chunk = 'x'.repeat(4096);
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n` +
            `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
        );
      });
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (piece: string) => {
        data += piece;
        if (data.includes('\r\n')) {
          resolve(data.slice(0, data.indexOf('\r\n')));
          socket.destroy();
        }
      });
      socket.on('error', reject);
    });
    assert.equal(status, 'HTTP/1.1 413 Payload Too Large');
    await assertStillServing();
  });
});

describe('media types', () => {
  test('a POST without application/json Content-Type is 415', async () => {
    assertError(
      await raw(s.url, {
        headers: { ...modernHeaders('tools/list'), 'content-type': 'text/plain' },
        body: modernBody(1, 'tools/list'),
      }),
      415,
      -32600,
    );
    const noType = modernHeaders('tools/list') as Record<string, string>;
    delete noType['content-type'];
    assertError(await raw(s.url, { headers: noType, body: modernBody(1, 'tools/list') }), 415, -32600);
    const withCharset = await raw(s.url, {
      headers: { ...modernHeaders('tools/list'), 'content-type': 'Application/JSON; charset=utf-8' },
      body: modernBody(1, 'tools/list'),
    });
    assert.equal(withCharset.status, 200);
  });

  test('Accept must list application/json and text/event-stream (406)', async () => {
    for (const accept of [undefined, 'application/json', 'text/event-stream', 'text/html']) {
      const headers = { ...modernHeaders('tools/list') } as Record<string, string>;
      if (accept === undefined) delete headers.accept;
      else headers.accept = accept;
      assertError(await raw(s.url, { headers, body: modernBody(1, 'tools/list') }), 406, -32600);
    }
    const wildcard = await raw(s.url, {
      headers: { ...modernHeaders('tools/list'), accept: '*/*' },
      body: modernBody(1, 'tools/list'),
    });
    assert.equal(wildcard.status, 200);
  });
});

describe('2026-07-28 headers and envelope', () => {
  test('MCP-Protocol-Version disagreeing with _meta is 400 / -32020', async () => {
    assertError(
      await raw(s.url, {
        headers: { ...modernHeaders('tools/list'), 'mcp-protocol-version': '2025-11-25' },
        body: modernBody(1, 'tools/list'),
      }),
      400,
      -32020,
      1,
    );
  });

  test('missing MCP-Protocol-Version or Mcp-Method is 400 / -32020 naming the header', async () => {
    for (const header of ['mcp-protocol-version', 'mcp-method']) {
      const headers = { ...modernHeaders('tools/list') } as Record<string, string>;
      delete headers[header];
      const res = await raw(s.url, { headers, body: modernBody(2, 'tools/list') });
      assertError(res, 400, -32020, 2);
    }
  });

  test('Mcp-Method or Mcp-Name disagreeing with the body is 400 / -32020', async () => {
    assertError(
      await raw(s.url, { headers: modernHeaders('prompts/list'), body: modernBody(3, 'tools/list') }),
      400,
      -32020,
      3,
    );
    const call = modernBody(4, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    assertError(await raw(s.url, { headers: modernHeaders('tools/call', 'add'), body: call }), 400, -32020, 4);
    const missingName = await raw(s.url, { headers: modernHeaders('tools/call'), body: call });
    assertError(missingName, 400, -32020, 4);
    assert.equal(missingName.json().error.data.header, 'Mcp-Name');
  });

  test('Mcp-Name in base64 is decoded; an invalid base64 value is 400 / -32020', async () => {
    const call = modernBody(5, 'tools/call', { name: 'echo', arguments: { text: 'b64' } });
    const ok = await raw(s.url, {
      headers: { ...modernHeaders('tools/call'), 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` },
      body: call,
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.json().result.content[0].text, 'b64');
    assertError(
      await raw(s.url, {
        headers: { ...modernHeaders('tools/call'), 'mcp-name': '=?base64?not*base64?=' },
        body: call,
      }),
      400,
      -32020,
      5,
    );
  });

  test('an unsupported protocol version is 400 / -32022 naming the supported ones', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 6,
      method: 'tools/list',
      params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
    });
    const res = await raw(s.url, {
      headers: { ...modernHeaders('tools/list'), 'mcp-protocol-version': '2099-01-01' },
      body,
    });
    assertError(res, 400, -32022, 6);
    assert.deepEqual(res.json().error.data, { supported: ['2026-07-28'], requested: '2099-01-01' });
  });

  test('an envelope missing clientCapabilities is 400 / -32602', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/list',
      params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
    });
    assertError(await raw(s.url, { headers: modernHeaders('tools/list'), body }), 400, -32602, 7);
    const badCapabilities = JSON.stringify({
      jsonrpc: '2.0',
      id: 8,
      method: 'tools/list',
      params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': { elicitation: 5 } } },
    });
    assertError(await raw(s.url, { headers: modernHeaders('tools/list'), body: badCapabilities }), 400, -32602, 8);
    await assertStillServing();
  });

  test('a removed method (ping, initialize with an envelope) is 404 / -32601', async () => {
    for (const method of ['ping', 'initialize', 'logging/setLevel']) {
      assertError(await raw(s.url, { headers: modernHeaders(method), body: modernBody(10, method) }), 404, -32601, 10);
    }
  });

  test('tool arguments that violate the schema are refused before the handler: 400 / -32602 naming the path', async () => {
    const res = await raw(s.url, {
      headers: modernHeaders('tools/call', 'add'),
      body: modernBody(11, 'tools/call', { name: 'add', arguments: { a: 'one', b: 2 } }),
    });
    assertError(res, 400, -32602, 11);
    assert.equal(res.json().error.message, 'Invalid arguments for tool add: /a must be number');
    assert.equal(res.json().error.data.path, '/a');
    assert.deepEqual(res.json().error.data.errors, [{ path: '/a', message: 'must be number', keyword: 'type' }]);
  });

  test('with validateToolArguments off, the SDK answers schema violations in-band as a tool error', async () => {
    await withServer({ validateToolArguments: false }, async (other) => {
      const res = await raw(other.url, {
        headers: modernHeaders('tools/call', 'add'),
        body: modernBody(11, 'tools/call', { name: 'add', arguments: { a: 'one', b: 2 } }),
      });
      assert.equal(res.status, 200);
      assert.equal(res.json().result.isError, true);
      assert.match(res.json().result.content[0].text, /Invalid arguments for tool add/);
    });
  });
});

describe('HTTP methods and paths', () => {
  test('GET and DELETE without a session are 400; PUT is 405 with Allow', async () => {
    assertError(await raw(s.url, { method: 'GET', headers: { accept: 'text/event-stream' } }), 400, -32600);
    assertError(await raw(s.url, { method: 'DELETE' }), 400, -32600);
    const put = await raw(s.url, { method: 'PUT', headers: LEGACY_HEADERS, body: '{}' });
    assertError(put, 405, -32600);
    assert.equal(put.headers.allow, 'GET, POST, DELETE');
  });

  test('with legacy off, GET and DELETE are 405 with Allow: POST', async () => {
    await withServer({ legacy: false }, async (modernOnly) => {
      for (const method of ['GET', 'DELETE']) {
        const res = await raw(modernOnly.url, { method, headers: { accept: 'text/event-stream' } });
        assertError(res, 405, -32600);
        assert.equal(res.headers.allow, 'POST');
      }
    });
  });

  test('another path is 404', async () => {
    const res = await raw(s.url.replace('/mcp', '/other'), {
      headers: modernHeaders('tools/list'),
      body: modernBody(1, 'tools/list'),
    });
    assertError(res, 404, -32600);
    const prefix = await raw(`${s.url}/x`, { headers: modernHeaders('tools/list'), body: modernBody(1, 'tools/list') });
    assert.equal(prefix.status, 404);
    const query = await raw(`${s.url}?a=1`, {
      headers: modernHeaders('tools/list'),
      body: modernBody(1, 'tools/list'),
    });
    assert.equal(query.status, 200);
  });
});

describe('2025-era sessions', () => {
  const listTools = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' });

  test('a request without Mcp-Session-Id is 400; an unknown one is 404', async () => {
    assertError(await raw(s.url, { headers: LEGACY_HEADERS, body: listTools(1) }), 400, -32600);
    assertError(await raw(s.url, { headers: sessionHeaders('no-such-session'), body: listTools(1) }), 404, -32600);
    await assertStillServing();
  });

  test('an unsupported MCP-Protocol-Version on a session request is 400 / -32022', async () => {
    const id = await openSession(s.url);
    const res = await raw(s.url, {
      headers: { ...sessionHeaders(id), 'mcp-protocol-version': '1999-01-01' },
      body: listTools(2),
    });
    assertError(res, 400, -32022);
    assert.ok(res.json().error.data.supported.includes('2025-11-25'));
  });

  test('batches: refused on 2025-06-18, answered on 2025-03-26, 413 over maxBatchLength; initialize may not be batched', async () => {
    const modern = await openSession(s.url, '2025-06-18');
    assertError(
      await raw(s.url, { headers: sessionHeaders(modern, '2025-06-18'), body: `[${listTools(1)},${listTools(2)}]` }),
      400,
      -32600,
    );
    const old = await openSession(s.url, '2025-03-26');
    const batch = await raw(s.url, {
      headers: sessionHeaders(old, '2025-03-26'),
      body: `[${listTools(1)},${listTools(2)}]`,
    });
    assert.equal(batch.status, 200);
    assert.deepEqual(
      batch
        .json()
        .map((answer: { id: number }) => answer.id)
        .sort(),
      [1, 2],
    );
    assertError(
      await raw(s.url, {
        headers: sessionHeaders(old, '2025-03-26'),
        body: `[${listTools(1)},${listTools(2)},${listTools(3)},${listTools(4)}]`,
      }),
      413,
      -32600,
    );
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    assertError(await raw(s.url, { headers: LEGACY_HEADERS, body: `[${init}]` }), 400, -32600);
  });

  test('initialize on an initialized session is 400', async () => {
    const id = await openSession(s.url);
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 3,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    assertError(await raw(s.url, { headers: sessionHeaders(id), body: init }), 400, -32600, 3);
  });

  test('an answer to a server request the session was never sent is ignored (202)', async () => {
    const id = await openSession(s.url);
    const res = await raw(s.url, {
      headers: sessionHeaders(id),
      body: JSON.stringify({ jsonrpc: '2.0', id: 12345, result: { action: 'accept' } }),
    });
    assert.equal(res.status, 202);
    await assertStillServing();
  });
});

describe('DNS rebinding', () => {
  test('a foreign Origin or Host is 403; loopback ones pass', async () => {
    const body = modernBody(1, 'tools/list');
    assertError(
      await raw(s.url, { headers: { ...modernHeaders('tools/list'), origin: 'http://evil.example' }, body }),
      403,
      -32600,
    );
    assertError(
      await raw(s.url, { headers: { ...modernHeaders('tools/list'), host: `evil.example:${s.port}` }, body }),
      403,
      -32600,
    );
    for (const origin of [`http://localhost:${s.port}`, `http://127.0.0.1:${s.port}`, 'https://[::1]']) {
      const res = await raw(s.url, { headers: { ...modernHeaders('tools/list'), origin }, body });
      assert.equal(res.status, 200, origin);
    }
  });

  test('allowlists replace the loopback defaults; protection can be turned off', async () => {
    await withServer(
      { allowedHosts: ['mcp.example.com'], allowedOrigins: ['https://app.example.com'] },
      async (listed) => {
        const body = modernBody(1, 'tools/list');
        assert.equal(
          (
            await raw(listed.url, {
              headers: { ...modernHeaders('tools/list'), host: 'mcp.example.com', origin: 'https://app.example.com' },
              body,
            })
          ).status,
          200,
        );
        assert.equal((await raw(listed.url, { headers: modernHeaders('tools/list'), body })).status, 403); // Host 127.0.0.1 is not listed now
        assert.equal(
          (
            await raw(listed.url, {
              headers: { ...modernHeaders('tools/list'), host: 'mcp.example.com', origin: 'http://localhost' },
              body,
            })
          ).status,
          403,
        );
      },
    );
    await withServer({ dnsRebindingProtection: false }, async (open) => {
      const res = await raw(open.url, {
        headers: { ...modernHeaders('tools/list'), host: 'evil.example', origin: 'http://evil.example' },
        body: modernBody(1, 'tools/list'),
      });
      assert.equal(res.status, 200);
    });
  });
});
