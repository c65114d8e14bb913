/**
 * `remote-mcp task <url> <taskId> [--cancel]`: follows a task (the tasks extension) that an earlier call created,
 * its status changes on stderr and its result on stdout, as `call --task` does; `--cancel` cancels it first.
 * A task outlives the process that created it: this is how a shell picks it up again.
 */
import { Command } from 'commander';

import { addClientFlags, type ClientFlags, EXIT_FAILED, EXIT_OK, runClientCommand, writeOut } from './client-flags.js';
import { formatToolResult, taskLine } from './client-output.js';
import { parseUrl, withClient } from './client-session.js';

interface TaskFlags extends ClientFlags {
  cancel?: boolean;
}

async function follow(url: URL, taskId: string, flags: TaskFlags): Promise<number> {
  return withClient(url, flags, async (client) => {
    if (flags.cancel === true) await client.cancelTask(taskId);
    const abort = new AbortController();
    const cancel = () => {
      process.stderr.write(`remote-mcp: cancelling task ${taskId}\n`);
      abort.abort(new Error('Cancelled with Ctrl-C'));
    };
    process.once('SIGINT', cancel);
    try {
      const result = await client.waitForTask(taskId, {
        signal: abort.signal,
        onStatus: (task) => process.stderr.write(taskLine(task)),
      });
      const failed = result.isError === true;
      if (flags.json === true) await writeOut(`${JSON.stringify(result, null, 2)}\n`);
      else if (failed)
        process.stderr.write(`remote-mcp: task ${taskId} returned an error:\n${formatToolResult(result)}`);
      else await writeOut(formatToolResult(result));
      return failed ? EXIT_FAILED : EXIT_OK;
    } finally {
      process.off('SIGINT', cancel);
    }
  });
}

export function taskCommand(): Command {
  const command = new Command('task')
    .description('Follow a task (the tasks extension) to its end: its status on stderr, its result on stdout.')
    .argument('<url>', 'the server: http(s)://host/mcp, an HTTP+SSE endpoint (…/sse), or ws(s)://host/mcp', parseUrl)
    .argument('<taskId>', 'the task, as `call --task` printed it')
    .option('--cancel', 'cancel the task, then show how it ended');
  return addClientFlags(command).action((url: URL, taskId: string, flags: TaskFlags) =>
    runClientCommand(() => follow(url, taskId, flags)),
  );
}
