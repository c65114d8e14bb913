/**
 * The server the `tasks` section of `npm run bench` serves (`remote-mcp serve build/bench/task-server.js`):
 *   noop   a task tool (required) that finishes at once: a tools/call measures creating a task
 *   echo   a plain tool, the same work inline: the reference a task's cost is read against
 *   stats  how many times noop ran, so the bench can check every answer was a task
 */
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { registerTaskTool } from '../src/index.js';

let ran = 0;

export default function createBenchTaskServer(): McpServer {
  const server = new McpServer({ name: 'remote-mcp-bench-tasks', version: '0.1.0' });
  registerTaskTool(
    server,
    'noop',
    {
      description: 'A task that finishes at once',
      inputSchema: z.object({ text: z.string() }),
      taskSupport: 'required',
    },
    async ({ text }) => {
      ran++;
      return { content: [{ type: 'text', text }] };
    },
  );
  server.registerTool(
    'echo',
    { description: 'Echoes', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({
      content: [{ type: 'text', text }],
    }),
  );
  server.registerTool('stats', { description: 'How many noop tasks ran' }, async () => ({
    content: [{ type: 'text', text: String(ran) }],
  }));
  return server;
}
