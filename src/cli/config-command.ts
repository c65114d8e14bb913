/**
 * `remote-mcp config check <file>` validates a configuration file the way `serve --config` would load it
 * (interpolation, REMOTE_MCP_* overrides, the schema, paths and TLS files) without starting anything.
 * `remote-mcp config schema` prints the JSON Schema, for editors and CI.
 */
import { Command } from 'commander';

import { CONFIG_SCHEMA } from '../config/config-schema.js';
import {
  ConfigError,
  configToServe,
  ENVIRONMENT_OVERRIDES,
  loadConfigFile,
  type ServePlan,
} from '../config/load-config.js';
import { DEFAULTS } from '../server/options.js';

/** The URL a plan would serve at, as `serve` prints it. */
function urlOf(plan: ServePlan): string {
  const { host, port, tls } = plan.listen;
  return `${tls === undefined ? 'http' : 'https'}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}${plan.options.path ?? DEFAULTS.path}`;
}

const ENVIRONMENT_HELP = `\nEnvironment variables that override the file:\n${ENVIRONMENT_OVERRIDES.map((entry) => `  ${entry.variable.padEnd(48)} ${entry.key}`).join('\n')}\n`;

/** `remote-mcp config check|schema`. Sets process.exitCode to 1 when the file has problems. */
export function configCommand(): Command {
  const config = new Command('config').description('Check configuration files, print their JSON Schema.');
  config
    .command('check')
    .description(
      'Load and validate a configuration file (YAML or JSON) as `serve --config` would, without starting anything.',
    )
    .argument('<file>', 'the configuration file')
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(async (file: string) => {
      try {
        const loaded = await loadConfigFile(file);
        const plan = await configToServe(loaded);
        process.stdout.write(`${file}: OK (${Object.keys(loaded.config).length} keys)\n`);
        const what =
          plan.modulePath !== undefined
            ? `${plan.modulePath} (export "${plan.exportName}")`
            : plan.options.stdio !== undefined
              ? `the stdio program ${[plan.options.stdio.command, ...(plan.options.stdio.args ?? [])].join(' ')}`
              : `the upstream ${plan.options.upstream!.url}`;
        process.stdout.write(`would serve ${what} at ${urlOf(plan)}\n`);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`${error.message}\n`);
        process.exitCode = 1;
      }
    });
  config
    .command('schema')
    .description('Print the JSON Schema (draft 2020-12) of configuration files.')
    .action(() => {
      process.stdout.write(`${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`);
    });
  return config;
}
