/**
 * `--transport legacy`: one 2025-era session per connection. initialize (2025-11-25), notifications/initialized,
 * then tools/call POSTs with the session's Mcp-Session-Id and the negotiated MCP-Protocol-Version; a DELETE ends
 * the session at the end. A 404 means the server forgot the session: the loop opens a new one.
 */
import { BENCH_LIMITS, type BenchOptions } from './bench-options.js';
import { CallTemplate, CLIENT_INFO, callParams, LEGACY_VERSION, type CallBuffer } from './call-template.js';
import { classifyHttp, parseObject, type Failure } from './classify.js';
import {
  exchange,
  httpTarget,
  OpenError,
  openErrorOf,
  type AnswerSink,
  type Channel,
  type Driver,
  type Exchanged,
  type HttpTarget,
} from './driver.js';
import { HttpConnection, requestHead, type HttpAnswer } from './http-connection.js';
import { sseData } from './sse-parser.js';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** The first JSON-RPC message of a JSON or SSE answer. */
function firstMessage(answer: Exchanged): Record<string, unknown> | undefined {
  if (!answer.contentType.startsWith('text/event-stream')) return parseObject(answer.body);
  for (const data of sseData(answer.body, BENCH_LIMITS.maxResponseBytes)) {
    const message = parseObject(data);
    if (message !== undefined) return message;
  }
  return undefined;
}

const said = (answer: Exchanged) => {
  const error = firstMessage(answer)?.error as { message?: unknown } | undefined;
  const text = error?.message !== undefined ? String(error.message) : answer.body.trim().slice(0, 200);
  return text.length > 0 ? `: ${text}` : '';
};

class SessionChannel implements Channel, HttpAnswer {
  open = true;
  private readonly connection: HttpConnection;
  private readonly request: CallBuffer;
  private id = 0;

  constructor(
    private readonly target: HttpTarget,
    private readonly url: URL,
    private readonly sessionHeaders: Record<string, string>,
    template: CallTemplate,
    private readonly sink: AnswerSink,
    private readonly timeoutMs: number,
  ) {
    this.request = template.buffer(requestHead(url, sessionHeaders, template.byteLength));
    this.connection = new HttpConnection(url, this, BENCH_LIMITS.maxResponseBytes);
  }

  call(id: number): void {
    this.id = id;
    this.connection.send(this.request.withId(id));
  }

  abandon(): void {
    this.connection.reset();
  }

  answered(status: number, contentType: string, body: string): void {
    if (status === 404) this.open = false;
    this.sink(this.id, classifyHttp(status, contentType, body, this.id, BENCH_LIMITS.maxResponseBytes));
  }

  failed(failure: Failure): void {
    this.sink(this.id, failure);
  }

  async close(): Promise<void> {
    this.connection.reset();
    if (!this.open || this.sessionHeaders['mcp-session-id'] === undefined) return;
    this.open = false;
    const { 'content-type': _, ...headers } = this.sessionHeaders;
    await exchange(
      this.target,
      this.url,
      { method: 'DELETE', headers },
      Math.min(this.timeoutMs, BENCH_LIMITS.closeTimeoutMs),
      BENCH_LIMITS.maxResponseBytes,
    ).catch(() => {});
  }
}

export class LegacyHttpDriver implements Driver {
  private readonly target: HttpTarget;
  private readonly template: CallTemplate;

  constructor(private readonly options: BenchOptions) {
    this.target = httpTarget(options.url, options.connections);
    this.template = new CallTemplate('tools/call', callParams(options.tool, options.args, false));
  }

  async prepare(): Promise<void> {}

  async open(sink: AnswerSink): Promise<Channel> {
    const { url, headers, timeoutMs } = this.options;
    const post = (extra: Record<string, string>, body: unknown) =>
      exchange(
        this.target,
        url,
        { method: 'POST', headers: { ...JSON_HEADERS, ...headers, ...extra }, body: JSON.stringify(body) },
        timeoutMs,
        BENCH_LIMITS.maxResponseBytes,
      ).catch((error: unknown) => {
        throw openErrorOf(error);
      });
    const init = await post(
      {},
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
      },
    );
    if (init.status !== 200) throw new OpenError(`initialize answered HTTP ${init.status}${said(init)}`);
    const result = firstMessage(init)?.result as { protocolVersion?: unknown } | undefined;
    if (typeof result?.protocolVersion !== 'string')
      throw new OpenError(`initialize did not succeed${said(init) || ': no result in the answer'}`);
    const sessionId = init.headers['mcp-session-id'];
    const sessionHeaders: Record<string, string> = {
      ...JSON_HEADERS,
      ...headers,
      'mcp-protocol-version': result.protocolVersion,
      // A server that keeps no sessions (stateless 2025-era) mints no id; its requests go without one.
      ...(typeof sessionId === 'string' && { 'mcp-session-id': sessionId }),
    };
    const ack = await post(sessionHeaders, { jsonrpc: '2.0', method: 'notifications/initialized' });
    if (ack.status < 200 || ack.status > 299)
      throw new OpenError(`notifications/initialized answered HTTP ${ack.status}${said(ack)}`);
    return new SessionChannel(this.target, url, sessionHeaders, this.template, sink, timeoutMs);
  }

  async close(): Promise<void> {
    this.target.agent.destroy();
  }
}
