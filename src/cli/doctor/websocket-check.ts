/**
 * WebSocket: an upgrade at the endpoint path asking for the `mcp` subprotocol, then one request over the socket
 * (`server/discover` when 2026-07-28 answered over HTTP, else a 2025-era initialize), with `ws` so the handshake
 * status, the subprotocol the server chose and the close code are visible. Not answering is a note unless the
 * URL given was ws(s)://.
 */
import type { IncomingMessage } from 'node:http';

import WebSocket from 'ws';

import {
  type Check,
  credentialHeaders,
  type DoctorContext,
  endpointUnavailable,
  fail,
  note,
  type Outcome,
  pass,
} from './check.js';
import { connectOptions, describeProbeError, type RpcMessage, statusText } from './http-probe.js';
import { initializeBody, modernBody } from './mcp-requests.js';

export const WEBSOCKET_SUBPROTOCOL = 'mcp';

type Attempt =
  | { kind: 'refused'; response: IncomingMessage }
  | { kind: 'error'; error: Error }
  | { kind: 'timeout'; opened: boolean }
  | { kind: 'closed'; code: number; reason: string }
  | { kind: 'answered'; protocol: string; answer: RpcMessage };

function attempt(context: DoctorContext, signal: AbortSignal, body: string, id: string): Promise<Attempt> {
  return new Promise((resolve) => {
    let opened = false;
    const socket = new WebSocket(context.target!.ws, [WEBSOCKET_SUBPROTOCOL], {
      ...connectOptions(context),
      headers: { 'user-agent': 'remote-mcp-doctor', ...credentialHeaders(context.options) },
      handshakeTimeout: context.options.timeoutMs,
      perMessageDeflate: false,
      // An answer is small; a larger frame is not one.
      maxPayload: 1024 * 1024,
    });
    let settled = false;
    const done = (result: Attempt) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', aborted);
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else socket.terminate();
      resolve(result);
    };
    const aborted = () => done({ kind: 'timeout', opened });
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    socket.on('unexpected-response', (_req, response) => {
      response.resume();
      done({ kind: 'refused', response });
    });
    socket.on('error', (error) => done({ kind: 'error', error }));
    socket.on('close', (code, reason) => done({ kind: 'closed', code, reason: reason.toString() }));
    socket.on('open', () => {
      opened = true;
      socket.send(body);
    });
    socket.on('message', (data) => {
      let message: RpcMessage;
      try {
        message = JSON.parse(data.toString()) as RpcMessage;
      } catch {
        return;
      }
      if (message.id === id && message.method === undefined)
        done({ kind: 'answered', protocol: socket.protocol, answer: message });
    });
  });
}

export const websocketCheck: Check = {
  name: 'websocket',
  label: 'WebSocket',
  skipIf: endpointUnavailable,
  async run(context, signal): Promise<Outcome> {
    const named = context.target!.scheme === 'ws' || context.target!.scheme === 'wss';
    const path = context.target!.ws.pathname;
    const absent = (detail: string, fix: string) => (named ? fail(detail, fix) : note(detail, fix));
    const modern = context.answered.modern || !context.answered.legacy;
    const id = 'doctor-websocket';
    const method = modern ? 'server/discover' : 'initialize';
    const result = await attempt(context, signal, modern ? modernBody(id, method) : initializeBody(id), id);
    const serveIt = `WebSocket clients cannot connect: serve MCP over WebSocket at ${path} if they matter (remote-mcp does unless --no-websocket)`;
    switch (result.kind) {
      case 'refused':
        return absent(
          `does not answer: the upgrade at ${path} got ${statusText({ status: result.response.statusCode ?? 0, statusMessage: result.response.statusMessage ?? '' })}`,
          serveIt,
        );
      case 'error':
        if (/subprotocol/i.test(result.error.message))
          return fail(
            `the upgrade was accepted, but ${result.error.message.toLowerCase()} (asked for ${WEBSOCKET_SUBPROTOCOL})`,
            `the server must answer Sec-WebSocket-Protocol: ${WEBSOCKET_SUBPROTOCOL}; if it does, a proxy in front drops the header`,
          );
        return absent(
          `the upgrade failed: ${describeProbeError(result.error, signal, context.options.timeoutMs)}`,
          `${serveIt}; a proxy in front must forward upgrades (nginx: proxy_http_version 1.1, proxy_set_header Upgrade $http_upgrade and Connection "upgrade")`,
        );
      case 'timeout':
        return result.opened
          ? fail(
              `the socket opened but ${method} got no answer within ${context.options.timeoutMs} ms`,
              'the server accepts WebSocket connections but does not answer MCP on them: check its logs',
            )
          : absent(`the upgrade got no answer within ${context.options.timeoutMs} ms`, serveIt);
      case 'closed':
        return fail(
          `the socket closed before ${method} was answered (close code ${result.code}${result.reason === '' ? '' : `: ${result.reason}`})`,
          'the server ends WebSocket connections it accepted: check its logs (1008: a policy refused the client; 1009: a frame too large)',
        );
      case 'answered': {
        if (result.answer.error !== undefined)
          return fail(
            `${method} over the socket got an error: ${result.answer.error.message ?? 'error'} (JSON-RPC ${result.answer.error.code})`,
            'the server answers WebSocket but refuses a well-formed request: check its logs',
          );
        context.answered.websocket = true;
        return pass(`subprotocol ${result.protocol}; ${method} answered over the socket`);
      }
    }
  },
};
