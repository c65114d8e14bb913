/**
 * `--transport sse`: the 2024-11-05 HTTP+SSE transport, one session per connection. GET `<path>/events` (or the
 * URL itself when it ends in /sse or /events) opens the stream, whose `endpoint` event names where to POST;
 * initialize and notifications/initialized go there, then each tools/call. A POST is answered 202 and the
 * result travels on the stream: a call is complete once both have arrived. Closing the stream ends the session.
 */
import { Agent as HttpAgent, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

import { BENCH_LIMITS, type BenchOptions } from './bench-options.js';
import { CallTemplate, CLIENT_INFO, callParams, SSE_VERSION, type CallBuffer } from './call-template.js';
import { badResponse, classifyHttp, classifyMessage, parseObject, type Failure } from './classify.js';
import {
  exchange,
  httpTarget,
  OpenError,
  openErrorOf,
  readRefusal,
  refusalText,
  type AnswerSink,
  type Channel,
  type Driver,
  type HttpTarget,
} from './driver.js';
import { HttpConnection, requestHead, type HttpAnswer } from './http-connection.js';
import { SseFrameTooLarge, SseParser } from './sse-parser.js';

/** Where the stream of `url` is: the URL itself when it names one, else `<path>/events` (remote-mcp's). */
export function eventsUrl(url: URL): URL {
  if (/\/(sse|events)$/.test(url.pathname)) return url;
  const events = new URL(url);
  events.pathname = `${url.pathname.replace(/\/$/, '')}/events`;
  return events;
}

/** The session stream: the endpoint it names, then every JSON-RPC message, until it ends. */
class EventStream {
  onMessage: (message: Record<string, unknown>) => void = () => {};
  onEnd: (why: string) => void = () => {};
  readonly endpoint: Promise<URL>;
  private ended = false;

  constructor(
    private readonly req: ClientRequest,
    res: IncomingMessage,
    base: URL,
  ) {
    let named: (url: URL) => void = () => {};
    let unnamed: (error: Error) => void = () => {};
    this.endpoint = new Promise<URL>((resolve, reject) => {
      named = resolve;
      unnamed = reject;
    });
    const parser = new SseParser((event, data) => {
      if (event === 'endpoint') named(new URL(data.trim(), base));
      else if (event === 'message') {
        const message = parseObject(data);
        if (message !== undefined) this.onMessage(message);
      }
    }, BENCH_LIMITS.maxResponseBytes);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      try {
        parser.push(chunk);
      } catch (error) {
        if (!(error instanceof SseFrameTooLarge)) throw error;
        this.end(error.message);
      }
    });
    const gone = (why: string) => () => {
      unnamed(new OpenError(`the stream ended before naming an endpoint (${why})`));
      this.end(why);
    };
    res.on('end', gone('the server ended the stream'));
    res.on('error', gone('the stream failed'));
    req.on('error', gone('the stream failed'));
  }

  private end(why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.req.destroy();
    this.onEnd(why);
  }

  destroy(): void {
    this.onEnd = () => {};
    this.end('closed');
  }
}

const WAITING = Symbol('waiting');

class SseChannel implements Channel, HttpAnswer {
  open = true;
  private readonly connection: HttpConnection;
  private readonly request: CallBuffer;
  private pending = 0;
  /** The POST of the pending call was accepted. */
  private posted = false;
  /** What the stream said about the pending call. */
  private streamed: Failure | undefined | typeof WAITING = WAITING;

  constructor(
    messages: URL,
    headers: Record<string, string>,
    template: CallTemplate,
    private readonly stream: EventStream,
    private readonly sink: AnswerSink,
  ) {
    this.request = template.buffer(requestHead(messages, headers, template.byteLength));
    this.connection = new HttpConnection(messages, this, BENCH_LIMITS.maxResponseBytes);
    stream.onMessage = (message) => this.streamAnswer(message);
    stream.onEnd = (why) => {
      this.open = false;
      if (this.pending !== 0) {
        this.connection.reset();
        this.finish({ kind: 'connection closed', message: why });
      }
    };
  }

  call(id: number): void {
    this.pending = id;
    this.posted = false;
    this.streamed = WAITING;
    this.connection.send(this.request.withId(id));
  }

  abandon(): void {
    this.pending = 0;
    this.connection.reset();
  }

  answered(status: number, contentType: string, body: string): void {
    if (this.pending === 0) return;
    if (status < 200 || status > 299)
      return this.finish(classifyHttp(status, contentType, body, this.pending, BENCH_LIMITS.maxResponseBytes));
    this.posted = true;
    if (this.streamed !== WAITING) this.finish(this.streamed);
  }

  failed(failure: Failure): void {
    if (this.pending !== 0) this.finish(failure);
  }

  private streamAnswer(message: Record<string, unknown>): void {
    // Server-to-client requests (ping, sampling) carry ids of the server's own; they are not answers.
    if (this.pending === 0 || message.id !== this.pending || 'method' in message) return;
    this.streamed = classifyMessage(message);
    if (this.posted) this.finish(this.streamed);
  }

  private finish(failure: Failure | undefined): void {
    const id = this.pending;
    this.pending = 0;
    this.sink(id, failure);
  }

  async close(): Promise<void> {
    this.open = false;
    this.connection.reset();
    this.stream.destroy();
  }
}

export class SseDriver implements Driver {
  private readonly target: HttpTarget;
  /** The streams hold their sockets for the whole run: a pool of their own, apart from the POSTs'. */
  private readonly streamAgent: HttpAgent;
  private readonly template: CallTemplate;

  constructor(private readonly options: BenchOptions) {
    this.target = httpTarget(options.url, options.connections);
    this.streamAgent = options.url.protocol === 'https:' ? new HttpsAgent() : new HttpAgent();
    this.template = new CallTemplate('tools/call', callParams(options.tool, options.args, false));
  }

  async prepare(): Promise<void> {}

  async open(sink: AnswerSink): Promise<Channel> {
    const { headers, timeoutMs } = this.options;
    const url = eventsUrl(this.options.url);
    let stream: EventStream | undefined;
    let opening: ClientRequest | undefined;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new OpenError(`the HTTP+SSE session did not open within ${timeoutMs} ms`, 'ETIMEDOUT')),
        timeoutMs,
      );
    });
    try {
      stream = await Promise.race([this.connect(url, (req) => (opening = req)), timedOut]);
      const messages = await Promise.race([stream.endpoint, timedOut]);
      const postHeaders = { 'content-type': 'application/json', ...headers };
      const initialized = new Promise<Record<string, unknown>>((resolve, reject) => {
        stream!.onMessage = (message) => message.id === 0 && !('method' in message) && resolve(message);
        stream!.onEnd = (why) => reject(new OpenError(`the stream ended during initialize (${why})`));
      });
      initialized.catch(() => {}); // raced below; a stream that ends before then must not go unhandled
      const post = async (body: unknown) => {
        const answer = await exchange(
          this.target,
          messages,
          { method: 'POST', headers: postHeaders, body: JSON.stringify(body) },
          timeoutMs,
          BENCH_LIMITS.maxResponseBytes,
        ).catch((error: unknown) => {
          throw openErrorOf(error);
        });
        if (answer.status < 200 || answer.status > 299)
          throw new OpenError(`POST ${messages.pathname} answered HTTP ${answer.status}: ${refusalText(answer.body)}`);
      };
      await post({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: SSE_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
      });
      const init = await Promise.race([initialized, timedOut]);
      const failure =
        classifyMessage(init) ?? (init.result === undefined ? badResponse('no initialize result') : undefined);
      if (failure !== undefined) throw new OpenError(`initialize failed: ${failure.message}`);
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
      return new SseChannel(messages, postHeaders, this.template, stream, sink);
    } catch (error) {
      stream?.destroy();
      opening?.destroy();
      throw openErrorOf(error);
    } finally {
      clearTimeout(timer);
    }
  }

  private connect(url: URL, started: (req: ClientRequest) => void): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const req = this.target.request(
        url,
        { method: 'GET', headers: { accept: 'text/event-stream', ...this.options.headers }, agent: this.streamAgent },
        (res) => {
          const type = String(res.headers['content-type'] ?? '');
          if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
            void readRefusal(res).then((said) => {
              req.destroy();
              const what = res.statusCode === 200 ? `${type || 'no content type'}, not an SSE stream` : said;
              reject(new OpenError(`GET ${url.pathname} answered HTTP ${res.statusCode}${what ? `: ${what}` : ''}`));
            });
            return;
          }
          resolve(new EventStream(req, res, url));
        },
      );
      req.on('error', reject);
      started(req);
      req.end();
    });
  }

  async close(): Promise<void> {
    this.target.agent.destroy();
    this.streamAgent.destroy();
  }
}
