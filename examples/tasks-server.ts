/**
 * A long-running tool as a task (docs/tasks.md): `build_report` reports each step in its statusMessage, may ask
 * the client a question while it runs, stops when the task is cancelled, and returns its result once done.
 * Serve it with `npm run serve -- build/examples/tasks-server.js`.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { registerTaskTool, TaskFailedError } from '../src/index.js';

/** Waits `ms`, or rejects as soon as the task is cancelled. */
function step(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    const cancel = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', cancel, { once: true });
  });
}

export default function createTasksServer(): McpServer {
  const server = new McpServer({ name: 'remote-mcp-tasks-example', version: '1.0.0' });
  registerTaskTool(
    server,
    'build_report',
    {
      description: 'Builds the monthly report (takes a while; runs as a task)',
      inputSchema: z.object({
        month: z.string().regex(/^\d{4}-\d{2}$/),
        sections: z.number().int().min(1).max(20).default(3),
        askAboutDrafts: z.boolean().default(false),
      }),
      taskSupport: 'required', // clients without the tasks extension get -32021
      pollIntervalMs: 500,
    },
    async ({ month, sections, askAboutDrafts }, task) => {
      let drafts = false;
      if (askAboutDrafts) {
        const answer = await task.elicit({
          mode: 'form',
          message: `Include draft entries in the ${month} report?`,
          requestedSchema: { type: 'object', properties: { drafts: { type: 'boolean' } }, required: ['drafts'] },
        });
        if (answer.action !== 'accept') throw new TaskFailedError(-32602, 'The report needs an answer about drafts');
        drafts = answer.content?.drafts === true;
      }
      for (let section = 1; section <= sections; section++) {
        await task.status(`section ${section} of ${sections}`);
        await step(500, task.signal);
      }
      return {
        content: [{ type: 'text', text: `Report ${month}: ${sections} sections${drafts ? ', drafts included' : ''}` }],
      };
    },
  );
  return server;
}
