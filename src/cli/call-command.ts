/**
 * `remote-mcp call <url> <tool> [--arg key=value ...] [--args '<json>'] [--task]`: calls one tool and prints its
 * result. Progress and log notifications go to stderr while it runs; a result with isError exits 1. A task tool
 * (the tasks extension) is followed to its end either way; `--task` shows the task's id and each status change
 * on stderr, and Ctrl-C cancels it.
 */
import { Command, InvalidArgumentError } from 'commander';

import { addClientFlags, type ClientFlags, EXIT_FAILED, EXIT_OK, runClientCommand, writeOut } from './client-flags.js';
import type { Progress } from '@modelcontextprotocol/client';

import type { RemoteClient, TaskOrResult } from '../client/index.js';
import { formatToolResult, progressLine, taskLine } from './client-output.js';
import { parseUrl, withClient } from './client-session.js';

interface CallFlags extends ClientFlags {
  arg?: Record<string, unknown>;
  args?: Record<string, unknown>;
  idempotent?: boolean;
  task?: boolean;
}

/** `--arg key=value`: the value as JSON when it is valid JSON (5, true, {"a":1}, "quoted"), else the string. */
export function collectArg(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError(`expected key=value, received "${value}"`);
  const key = value.slice(0, equals);
  const text = value.slice(equals + 1);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the string itself.
  }
  return { ...previous, [key]: parsed };
}

/** `--args '<json>'`: a JSON object. */
export function parseArgsJson(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError('expected a JSON object, such as {"text":"hi"}');
  return parsed as Record<string, unknown>;
}

/** Follows a task on stderr until it ends; Ctrl-C cancels it. Resolves with the tool's result. */
async function followTask(client: RemoteClient, outcome: TaskOrResult): Promise<Record<string, unknown>> {
  if (outcome.kind === 'result') {
    process.stderr.write('remote-mcp: the server answered at once (no task)\n');
    return outcome.result;
  }
  const abort = new AbortController();
  const cancel = () => {
    process.stderr.write(`remote-mcp: cancelling task ${outcome.task.taskId}\n`);
    abort.abort(new Error('Cancelled with Ctrl-C'));
  };
  process.once('SIGINT', cancel);
  try {
    return await client.waitForTask(outcome.task, {
      signal: abort.signal,
      onStatus: (task) => process.stderr.write(taskLine(task)),
    });
  } finally {
    process.off('SIGINT', cancel);
  }
}

async function call(url: URL, tool: string, flags: CallFlags): Promise<number> {
  // --arg values override the same keys in --args.
  const toolArguments = { ...flags.args, ...flags.arg };
  return withClient(url, flags, async (client) => {
    const options = {
      onprogress: (progress: Progress) => process.stderr.write(progressLine(progress)),
      ...(flags.idempotent === true && { idempotent: true }),
    };
    const params = { name: tool, arguments: toolArguments };
    const result =
      flags.task === true
        ? await followTask(client, await client.callToolAsTask(params, options))
        : await client.callTool(params, options);
    const failed = result.isError === true;
    if (flags.json === true) await writeOut(`${JSON.stringify(result, null, 2)}\n`);
    else if (failed) process.stderr.write(`remote-mcp: tool ${tool} returned an error:\n${formatToolResult(result)}`);
    else await writeOut(formatToolResult(result));
    return failed ? EXIT_FAILED : EXIT_OK;
  });
}

export function callCommand(): Command {
  const command = new Command('call')
    .description('Call a tool on a remote MCP server and print its result (progress and logs on stderr).')
    .argument('<url>', 'the server: http(s)://host/mcp, an HTTP+SSE endpoint (…/sse), or ws(s)://host/mcp', parseUrl)
    .argument('<tool>', 'the tool to call')
    .option(
      '--arg <key=value>',
      'one argument; the value is parsed as JSON when it is JSON, else a string; repeatable',
      collectArg,
    )
    .option('--args <json>', 'the arguments as a JSON object (--arg values override its keys)', parseArgsJson)
    .option('--idempotent', 'the call is safe to repeat: retry it even after it may have reached the server')
    .option('--task', "show a task tool's task id and status changes on stderr until it ends (Ctrl-C cancels it)");
  return addClientFlags(command).action((url: URL, tool: string, flags: CallFlags) =>
    runClientCommand(() => call(url, tool, flags)),
  );
}
