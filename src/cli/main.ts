#!/usr/bin/env node
/**
 * The remote-mcp command line. Server side: `serve <module>` and its helpers (config, keys, token). Client side:
 * `call`, `task`, `list`, `read`, `bridge`, `doctor` and `bench`, which reach any remote MCP server.
 *
 * The server side is imported only when a server command (or the top-level help) runs, so a client command
 * starts in about half the time and never loads server code.
 */
import { Command } from 'commander';

import { VERSION } from '../version.js';
import { benchCommand } from './bench-command.js';
import { bridgeCommand } from './bridge-command.js';
import { callCommand } from './call-command.js';
import { doctorCommand } from './doctor-command.js';
import { listCommand } from './list-command.js';
import { readCommand } from './read-command.js';
import { taskCommand } from './task-command.js';

/** Subcommands that need no server code: with one of these first, serve-command.js is not loaded. */
const CLIENT_COMMANDS = new Set(['call', 'task', 'list', 'read', 'bridge', 'doctor', 'bench']);

export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('remote-mcp')
    .description('Put MCP servers on the network, ready for production; reach them from the command line.')
    .version(VERSION);
  if (!CLIENT_COMMANDS.has(argv[2] ?? '')) {
    const { addServerCommands } = await import('./serve-command.js');
    addServerCommands(program);
  }
  program.addCommand(callCommand());
  program.addCommand(taskCommand());
  program.addCommand(listCommand());
  program.addCommand(readCommand());
  program.addCommand(bridgeCommand());
  program.addCommand(doctorCommand());
  program.addCommand(benchCommand());
  return program;
}

buildProgram()
  .then((program) => program.parseAsync(process.argv))
  .catch((error: unknown) => {
    // Library errors already start with "remote-mcp: "; say it once.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`remote-mcp: ${message.replace(/^remote-mcp: /, '')}\n`);
    process.exit(1);
  });
