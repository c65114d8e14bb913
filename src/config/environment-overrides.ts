/**
 * REMOTE_MCP_* environment variables that override the scalar keys of a configuration file.
 */
import { CONFIG_SCHEMA, type JsonSchema } from './config-schema.js';
import { ConfigError, describeValue, type ConfigPositions, type ConfigProblem } from './config-problems.js';
import { setOwn } from './parse-config.js';

// ---------------------------------------------------------------------------------------------------------------
// Environment overrides

type ScalarType = 'string' | 'integer' | 'number' | 'boolean';

export interface EnvironmentOverride {
  variable: string;
  /** The dotted key it sets. */
  key: string;
  type: ScalarType;
  description: string;
}

const upperSnake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function isScalarType(type: JsonSchema['type']): type is ScalarType {
  return type === 'string' || type === 'integer' || type === 'number' || type === 'boolean';
}

/** Every REMOTE_MCP_* variable that overrides a key of the configuration file. */
export const ENVIRONMENT_OVERRIDES: readonly EnvironmentOverride[] = Object.freeze([
  ...Object.entries(CONFIG_SCHEMA.properties!).flatMap(([key, schema]) =>
    isScalarType(schema.type)
      ? [{ variable: `REMOTE_MCP_${upperSnake(key)}`, key, type: schema.type, description: schema.description ?? '' }]
      : [],
  ),
  {
    variable: 'REMOTE_MCP_LOG_LEVEL',
    key: 'log.level',
    type: 'string' as const,
    description: CONFIG_SCHEMA.properties!.log!.properties!.level!.description ?? '',
  },
  {
    variable: 'REMOTE_MCP_REDIS_URL',
    key: 'redis.url',
    type: 'string' as const,
    description: 'Keep the shared state in this Redis (redis://host:port); needs REMOTE_MCP_REQUEST_STATE_KEY.',
  },
  {
    variable: 'REMOTE_MCP_METRICS_PORT',
    key: 'metrics.port',
    type: 'integer' as const,
    description: 'Serve metrics on a separate listener on this port (enables metrics).',
  },
]);

export function coerce(raw: string, type: ScalarType): string | number | boolean | undefined {
  switch (type) {
    case 'string':
      return raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'integer': {
      const value = Number(raw);
      return /^-?\d+$/.test(raw) && Number.isSafeInteger(value) ? value : undefined;
    }
    case 'number': {
      const value = Number(raw);
      return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw) && Number.isFinite(value) ? value : undefined;
    }
  }
}

const TYPE_WORDS: Record<ScalarType, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: '"true" or "false"',
};

/**
 * Applies the REMOTE_MCP_* variables (ENVIRONMENT_OVERRIDES) over the file's values; empty variables are
 * ignored. Returns a new configuration; throws ConfigError naming each variable whose value does not coerce.
 * With `positions`, records which keys the environment set, so later problems name the variable.
 */
export function applyEnvironmentOverrides(
  config: unknown,
  env: NodeJS.ProcessEnv,
  positions?: ConfigPositions,
): unknown {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return config;
  const result = structuredClone(config) as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  for (const override of ENVIRONMENT_OVERRIDES) {
    const raw = env[override.variable];
    if (raw === undefined || raw === '') continue;
    const value = coerce(raw, override.type);
    if (value === undefined) {
      problems.push({
        file: `$${override.variable}`,
        key: override.key,
        message: `expected ${TYPE_WORDS[override.type]}; received ${describeValue(raw)}`,
      });
      continue;
    }
    const [first, second] = override.key.split('.') as [string, string | undefined];
    if (second === undefined) setOwn(result, first, value);
    else {
      const parent = result[first];
      // metrics: true/false/absent become { port }: asking for a metrics port asks for metrics.
      const object =
        parent !== null && typeof parent === 'object' && !Array.isArray(parent)
          ? (parent as Record<string, unknown>)
          : {};
      setOwn(object, second, value);
      setOwn(result, first, object);
    }
    positions?.overrides.set(override.key, override.variable);
    positions?.interpolated.delete(override.key);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result;
}
