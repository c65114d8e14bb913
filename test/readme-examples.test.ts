/**
 * The README's examples are what the demo server really answers: the `/health` answer has the shape shown, and
 * the `slow_count` streaming command, sent as written (only the port changed), streams the events shown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { raw, sseMessages, withTimeout } from './helpers.js';

const readme = readFileSync('README.md', 'utf8');
let child: ChildProcess | undefined;
let base = '';

before(async () => {
  const started = spawn(
    process.execPath,
    ['build/src/cli/main.js', 'serve', 'build/examples/demo-server.js', '--port', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child = started;
  let output = '';
  started.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  started.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  base = await withTimeout(
    new Promise<string>((done, fail) => {
      const poll = setInterval(() => {
        const match = /at (http:\/\/127\.0\.0\.1:\d+)\/mcp/.exec(output);
        if (match !== null) clearInterval(poll), done(match[1]!);
      }, 20);
      started.once('exit', (code) => (clearInterval(poll), fail(new Error(`serve exited with ${code}: ${output}`))));
    }),
    10_000,
    'the demo server to start',
  );
});

after(() => child?.kill('SIGKILL'));

/** The shape of a JSON value: its keys (recursively) and, in arrays, each element's shape; numbers as "number". */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]));
  return typeof value === 'number' ? 'number' : value;
}

test('the README shows the /health answer npm start gives (only the numbers vary)', async () => {
  const intro = readme.indexOf('`/health` from `npm start`');
  const start = readme.indexOf('```json\n', intro) + '```json\n'.length;
  assert.ok(
    intro >= 0 && start > intro,
    'README.md has the /health example as a json block after "`/health` from `npm start`"',
  );
  const example = readme.slice(start, readme.indexOf('\n```', start));
  const shown = JSON.parse(example) as unknown;
  const health = await raw(`${base}/health`, { method: 'GET' });
  assert.equal(health.status, 200);
  assert.deepEqual(shape(shown), shape(health.json()), 'replace the README example with a fresh /health answer');
});

test('the README’s slow_count command, as written, streams log and progress events and then the answer', async () => {
  const block = /```sh\n(curl -sN http:\/\/127\.0\.0\.1:8080\/mcp [^`]*?mcp-name: slow_count[^`]*?)```/s.exec(readme);
  assert.ok(block, 'README.md has the slow_count curl command');
  const text = block[1]!;
  const command = text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
  const headers = Object.fromEntries(
    [...command.matchAll(/-H '([^:']+): ([^']*)'/g)].map((match) => [match[1]!.toLowerCase(), match[2]!]),
  );
  const body = /-d '([^']*)'/s.exec(command)![1]!;
  const answer = await raw(`${base}/mcp`, { headers, body });
  assert.equal(answer.status, 200, answer.body);
  assert.match(String(answer.headers['content-type']), /^text\/event-stream/);
  const messages = sseMessages(answer.body);
  assert.deepEqual(
    messages.map((message) => message.method ?? 'answer'),
    [
      'notifications/message',
      'notifications/progress',
      'notifications/message',
      'notifications/progress',
      'notifications/message',
      'notifications/progress',
      'answer',
    ],
  );
  assert.equal(messages.at(-1).result.content[0].text, 'counted to 3');
  // The events the README prints in full are the ones the server sends.
  const sent = new Set(answer.body.split('\n').filter((line) => line.startsWith('data: ')));
  for (const line of text.split('\n').filter((line) => line.startsWith('# data: ') && !line.includes('...')))
    assert.ok(sent.has(line.slice(2)), `the server did not send ${line.slice(2)}`);
});
