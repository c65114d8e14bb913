/**
 * Newline-delimited JSON on stdin, framed as the SDK's stdio transports frame it (one message per line, `\r\n`
 * accepted), with a bound on one line: a longer one is skipped up to its newline and reported, so one bad message
 * neither grows memory without bound nor ends the session.
 */
import type { Readable } from 'node:stream';

export interface LineHandlers {
  /** A complete line, without its line ending. Empty lines are skipped. */
  line: (text: string) => void;
  /** A line longer than the bound was dropped. */
  oversized: (bytes: number) => void;
  end: () => void;
}

export function readLines(input: Readable, maxLineBytes: number, handlers: LineHandlers): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Bytes of an oversized line dropped so far; its rest is dropped up to the next newline. */
  let skipping = -1;

  const flushLine = (tail: Buffer) => {
    if (skipping >= 0) {
      handlers.oversized(skipping + tail.length);
      skipping = -1;
      return;
    }
    const whole = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending = [];
    pendingBytes = 0;
    const text = whole.toString('utf8').replace(/\r$/, '');
    if (text.trim() !== '') handlers.line(text);
  };

  input.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      const tail = chunk.subarray(start, newline);
      if (skipping < 0 && pendingBytes + tail.length > maxLineBytes) {
        skipping = pendingBytes;
        pending = [];
        pendingBytes = 0;
      }
      flushLine(tail);
      start = newline + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (skipping >= 0) skipping += rest.length;
    else if (pendingBytes + rest.length > maxLineBytes) {
      skipping = pendingBytes + rest.length;
      pending = [];
      pendingBytes = 0;
    } else {
      // Copy: the chunk's memory may be reused by the stream.
      pending.push(Buffer.from(rest));
      pendingBytes += rest.length;
    }
  });
  input.once('end', () => {
    if (skipping >= 0) handlers.oversized(skipping);
    else if (pendingBytes > 0) flushLine(Buffer.alloc(0));
    handlers.end();
  });
}
