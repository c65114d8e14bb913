/**
 * An incremental text/event-stream parser for what bench reads: the HTTP+SSE session stream and SSE answers to
 * POSTs. Lines may end in LF, CRLF or CR (split across chunks too); a frame past `maxFrameBytes` is refused.
 */

export type SseListener = (event: string, data: string) => void;

export class SseFrameTooLarge extends Error {}

export class SseParser {
  private buffer = '';
  /** The previous chunk ended in CR: an LF starting this one belongs to it. */
  private pendingCr = false;

  constructor(
    private readonly onEvent: SseListener,
    private readonly maxFrameBytes: number,
  ) {}

  /** Feeds a chunk; calls the listener for every complete frame with data. Throws SseFrameTooLarge. */
  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = text.endsWith('\r');
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    this.buffer += text;
    for (let end = this.buffer.indexOf('\n\n'); end !== -1; end = this.buffer.indexOf('\n\n')) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.frame(frame);
    }
    if (this.buffer.length > this.maxFrameBytes)
      throw new SseFrameTooLarge(`an SSE frame exceeds ${this.maxFrameBytes} bytes`);
  }

  /** The frame left when the stream ends without a blank line after it. */
  end(): void {
    if (this.buffer.length > 0) this.frame(this.buffer);
    this.buffer = '';
  }

  private frame(frame: string): void {
    let event = 'message';
    let data: string | undefined;
    for (const line of frame.split('\n')) {
      if (line.length === 0 || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
      if (field === 'event') event = value;
      else if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    }
    if (data !== undefined) this.onEvent(event, data);
  }
}

/** The data of every `message` event of a whole SSE body. */
export function sseData(body: string, maxFrameBytes: number): string[] {
  const found: string[] = [];
  const parser = new SseParser((event, data) => {
    if (event === 'message') found.push(data);
  }, maxFrameBytes);
  parser.push(body);
  parser.end();
  return found;
}
