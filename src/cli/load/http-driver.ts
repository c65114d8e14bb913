/**
 * `--transport http`: 2026-07-28 stateless tools/call POSTs. Before the run one tools/list (with the same
 * headers) proves the server answers and reads the tool's input schema, so arguments it marks `x-mcp-header`
 * get their Mcp-Param-* headers; every call then sends the same prebuilt headers and body, only the id changes.
 */
import { BENCH_LIMITS, type BenchOptions } from './bench-options.js';
import {
  CallTemplate,
  callParams,
  MODERN_ENVELOPE,
  modernCallHeaders,
  paramHeaders,
  type CallBuffer,
} from './call-template.js';
import { classifyHttp, parseObject, type Failure } from './classify.js';
import {
  exchange,
  httpTarget,
  openErrorOf,
  type AnswerSink,
  type Channel,
  type Driver,
  type HttpTarget,
} from './driver.js';
import { HttpConnection, requestHead, type HttpAnswer } from './http-connection.js';

/** Pages of tools/list read looking for the tool before the run. */
const MAX_LIST_PAGES = 20;

class ModernChannel implements Channel, HttpAnswer {
  readonly open = true;
  private readonly connection: HttpConnection;
  private readonly request: CallBuffer;
  private id = 0;

  constructor(
    url: URL,
    headers: Record<string, string>,
    template: CallTemplate,
    private readonly sink: AnswerSink,
  ) {
    this.request = template.buffer(requestHead(url, headers, template.byteLength));
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
    this.sink(this.id, classifyHttp(status, contentType, body, this.id, BENCH_LIMITS.maxResponseBytes));
  }

  failed(failure: Failure): void {
    this.sink(this.id, failure);
  }

  async close(): Promise<void> {
    this.connection.reset();
  }
}

export class ModernHttpDriver implements Driver {
  private readonly target: HttpTarget;
  private readonly template: CallTemplate;
  private extraHeaders: Record<string, string> = {};
  /** Set by prepare when tools/list answered without the tool: the report prints it. */
  warning: string | undefined;

  constructor(private readonly options: BenchOptions) {
    this.target = httpTarget(options.url, options.connections);
    this.template = new CallTemplate('tools/call', callParams(options.tool, options.args, true));
  }

  async prepare(): Promise<void> {
    const { url, headers, timeoutMs, tool, args } = this.options;
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 1; page <= MAX_LIST_PAGES; page++) {
      let answer: Awaited<ReturnType<typeof exchange>>;
      try {
        answer = await exchange(
          this.target,
          url,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-protocol-version': MODERN_ENVELOPE['io.modelcontextprotocol/protocolVersion'],
              'mcp-method': 'tools/list',
              ...headers,
            },
            body: JSON.stringify({
              jsonrpc: '2.0',
              id: page,
              method: 'tools/list',
              params: { ...(cursor !== undefined && { cursor }), _meta: MODERN_ENVELOPE },
            }),
          },
          timeoutMs,
          BENCH_LIMITS.maxResponseBytes,
        );
      } catch (error) {
        throw openErrorOf(error);
      }
      // Whatever else goes wrong here (401, a 2025-era-only server, an SSE answer) the run itself reports.
      if (answer.status !== 200 || !answer.contentType.startsWith('application/json')) return;
      const result = parseObject(answer.body)?.result as
        | { tools?: Array<{ name?: unknown; inputSchema?: unknown }>; nextCursor?: unknown }
        | undefined;
      if (result === undefined || !Array.isArray(result.tools)) return;
      const found = result.tools.find((entry) => entry?.name === tool);
      if (found !== undefined) {
        this.extraHeaders = paramHeaders(found.inputSchema, args);
        return;
      }
      seen.push(...result.tools.map((entry) => String(entry?.name)));
      if (typeof result.nextCursor !== 'string') break;
      cursor = result.nextCursor;
    }
    this.warning = `tools/list does not name ${JSON.stringify(tool)} (it lists ${seen.length === 0 ? 'no tools' : seen.join(', ')})`;
  }

  async open(sink: AnswerSink): Promise<Channel> {
    const headers = { ...modernCallHeaders(this.options.tool, this.extraHeaders), ...this.options.headers };
    return new ModernChannel(this.options.url, headers, this.template, sink);
  }

  async close(): Promise<void> {
    this.target.agent.destroy();
  }
}
