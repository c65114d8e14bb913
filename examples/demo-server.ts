/**
 * The demo MCP server that `npm start` serves: a plain official-SDK McpServer factory, nothing remote-mcp
 * specific except the optional `notify` it uses to tell subscribed clients that the clock resource changed.
 *
 *   tools      echo, add, slow_count (progress notifications), ask_name (asks the user for input)
 *   resources  demo://clock (changes every clockIntervalMs and notifies), demo://greeting/{name} (template)
 *   prompts    review_code
 */
import { inputRequired, McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import { z } from 'zod';

import type { FactoryContext } from '../src/index.js';

/** How often demo://clock changes. */
export const clockIntervalMs = Number(process.env.DEMO_CLOCK_INTERVAL_MS ?? 5000);

let ticks = 0;
let clock: NodeJS.Timeout | undefined;

function startClock(context: FactoryContext | undefined): void {
  if (clock !== undefined || context === undefined) return;
  clock = setInterval(() => {
    ticks++;
    context.notify.resourceUpdated('demo://clock');
  }, clockIntervalMs);
  clock.unref();
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error('cancelled'));
      },
      { once: true },
    );
  });

export default function createDemoServer(context?: FactoryContext): McpServer {
  startClock(context);
  const server = new McpServer(
    { name: 'remote-mcp-demo', version: '0.1.0' },
    {
      capabilities: {
        logging: {},
        resources: { subscribe: true, listChanged: true },
        tools: { listChanged: true },
        prompts: { listChanged: true },
      },
    },
  );

  server.registerTool(
    'echo',
    { description: 'Returns the text it is given.', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({
      content: [{ type: 'text', text }],
    }),
  );

  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number() }),
    },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
  );

  server.registerTool(
    'slow_count',
    {
      description: 'Counts to `to`, one step every `delayMs`, reporting progress and logging each step.',
      inputSchema: z.object({
        to: z.number().int().min(1).max(100).default(5),
        delayMs: z.number().int().min(0).max(10_000).default(200),
      }),
    },
    async ({ to, delayMs }, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (let step = 1; step <= to; step++) {
        await sleep(delayMs, ctx.mcpReq.signal);
        await ctx.mcpReq.log('info', `step ${step} of ${to}`);
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress: step, total: to, message: `step ${step}` },
          });
        }
      }
      return { content: [{ type: 'text', text: `counted to ${to}` }] };
    },
  );

  server.registerTool(
    'ask_name',
    { description: 'Asks the user for their name, then greets them.', inputSchema: z.object({}) },
    async (_args, ctx) => {
      const answer = ctx.mcpReq.inputResponses?.name as { action?: string; content?: { name?: string } } | undefined;
      if (answer === undefined) {
        return inputRequired({
          inputRequests: {
            name: inputRequired.elicit({
              message: 'What is your name?',
              requestedSchema: {
                type: 'object',
                properties: { name: { type: 'string', description: 'Your name' } },
                required: ['name'],
              },
            }),
          },
        });
      }
      if (answer.action !== 'accept' || typeof answer.content?.name !== 'string')
        return { content: [{ type: 'text', text: 'No name given.' }] };
      return { content: [{ type: 'text', text: `Hello, ${answer.content.name}!` }] };
    },
  );

  server.registerResource(
    'clock',
    'demo://clock',
    { description: 'A counter that changes every few seconds.', mimeType: 'text/plain' },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: `tick ${ticks}` }],
    }),
  );

  server.registerResource(
    'greeting',
    new ResourceTemplate('demo://greeting/{name}', { list: undefined }),
    { description: 'A greeting for a name.', mimeType: 'text/plain' },
    async (uri, { name }) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: `Hello, ${String(name)}!` }],
    }),
  );

  server.registerPrompt(
    'review_code',
    { description: 'Asks the model to review code.', argsSchema: z.object({ code: z.string() }) },
    ({ code }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Please review this code:\n\n${code}` } }],
    }),
  );

  // 2025-era clients subscribe per resource; remote-mcp records the subscription and routes updates, the
  // server only has to accept the request.
  server.server.setRequestHandler('resources/subscribe', async () => ({}));
  server.server.setRequestHandler('resources/unsubscribe', async () => ({}));
  return server;
}
