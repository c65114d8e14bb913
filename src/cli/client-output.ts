/**
 * How the client commands print what a server returns: text as is, everything binary summarized (its type and
 * size), progress and log notifications as one stderr line each. `--json` bypasses all of it.
 */
import type { LoggingMessageNotification, Progress } from '@modelcontextprotocol/client';

/** The text of a content block or resource contents item, or a one-line summary of what is not text. */
interface ContentLike {
  type?: string;
  text?: unknown;
  data?: unknown;
  mimeType?: unknown;
  uri?: unknown;
  name?: unknown;
  blob?: unknown;
  resource?: ContentLike;
}

/** Bytes a base64 string decodes to (without decoding it). */
function base64Bytes(data: unknown): number {
  if (typeof data !== 'string') return 0;
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((data.length * 3) / 4) - padding);
}

const withNewline = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);
const mime = (value: unknown) => (typeof value === 'string' && value !== '' ? ` ${value}` : '');

/** Resource contents (resources/read, or embedded in a tool result): text as is, a blob summarized. */
export function formatResourceContents(item: ContentLike, asIs = false): string {
  if (typeof item.text === 'string') return asIs ? item.text : withNewline(item.text);
  if (typeof item.blob === 'string')
    return `[blob ${String(item.uri)}${mime(item.mimeType)}, ${base64Bytes(item.blob)} bytes; --json shows it]\n`;
  return `[contents of ${String(item.uri)} with neither text nor blob]\n`;
}

/** One content block of a tool result or prompt message. */
export function formatContentBlock(block: ContentLike): string {
  switch (block.type) {
    case 'text':
      return withNewline(typeof block.text === 'string' ? block.text : '');
    case 'image':
    case 'audio':
      return `[${block.type}${mime(block.mimeType)}, ${base64Bytes(block.data)} bytes; --json shows it]\n`;
    case 'resource_link':
      return `[resource link ${String(block.uri)}${typeof block.name === 'string' ? ` (${block.name})` : ''}]\n`;
    case 'resource':
      return block.resource === undefined ? '[resource]\n' : formatResourceContents(block.resource);
    default:
      return `[${String(block.type)} content; --json shows it]\n`;
  }
}

/** A tool result's content for a human: its blocks, or its structuredContent when it has no blocks. */
export function formatToolResult(result: { content?: unknown; structuredContent?: unknown }): string {
  const blocks = Array.isArray(result.content) ? (result.content as ContentLike[]) : [];
  if (blocks.length === 0 && result.structuredContent !== undefined)
    return `${JSON.stringify(result.structuredContent, null, 2)}\n`;
  return blocks.map(formatContentBlock).join('');
}

/** `progress 2/5: step 2` (total and message when the server gave them). */
export function progressLine(progress: Progress): string {
  const total = progress.total === undefined ? '' : `/${progress.total}`;
  const message = progress.message === undefined || progress.message === '' ? '' : `: ${progress.message}`;
  return `progress ${progress.progress}${total}${message}\n`;
}

/** `log info: text` (with the logger's name when given). */
export function logLine(params: LoggingMessageNotification['params']): string {
  const logger = typeof params.logger === 'string' ? ` [${params.logger}]` : '';
  const data = typeof params.data === 'string' ? params.data : JSON.stringify(params.data);
  return `log ${params.level}${logger}: ${data}\n`;
}

/** First line of a description, whitespace collapsed, so one item stays on one line. */
export function oneLine(text: unknown): string {
  if (typeof text !== 'string') return '';
  return text.split('\n', 1)[0]!.replace(/\s+/g, ' ').trim();
}

/** Rows as columns: every column but the last padded to its widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  return rows
    .map((row) => {
      const cells = row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!)));
      return `${cells.join('  ').trimEnd()}\n`;
    })
    .join('');
}

/** One stderr line per status a followed task is seen in. */
export function taskLine(task: { taskId: string; status: string; statusMessage?: string }): string {
  return `task ${task.taskId}: ${task.status}${task.statusMessage === undefined ? '' : ` (${task.statusMessage})`}\n`;
}
