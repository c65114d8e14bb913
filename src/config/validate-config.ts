/**
 * Validation of a parsed configuration against CONFIG_SCHEMA (ajv, draft 2020-12), with ajv's errors turned
 * into one readable problem each, at the position of the value at fault.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

import { CONFIG_SCHEMA, type JsonSchema } from './config-schema.js';
import { coerce } from './environment-overrides.js';
import {
  closest,
  ConfigError,
  describeSchema,
  describeValue,
  dottedKey,
  formatProblem,
  list,
  type ConfigPositions,
  type ConfigProblem,
  type Path,
  type Position,
} from './config-problems.js';
import type { ConfigFile } from './load-config.js';

// ---------------------------------------------------------------------------------------------------------------
// Validation

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // strictRequired is off because ajv checks `required` inside anyOf/oneOf branches before it has seen the
  // sibling `properties` that define those keys (auth: jwt or apiKeys); every other strict check is on.
  compiled ??= new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true }).compile(
    CONFIG_SCHEMA,
  );
  return compiled;
}

/** The schemas that may apply at a path (through oneOf/anyOf branches). */
function schemasAt(path: Path): JsonSchema[] {
  const expand = (schemas: JsonSchema[]): JsonSchema[] =>
    schemas.flatMap((schema) => [schema, ...expand([...(schema.oneOf ?? []), ...(schema.anyOf ?? [])])]);
  let current = expand([CONFIG_SCHEMA]);
  for (const segment of path) {
    current = expand(
      current.flatMap((schema) => {
        if (typeof segment === 'number') return schema.items === undefined ? [] : [schema.items];
        const property =
          schema.properties?.[segment] ??
          (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
        return property === undefined ? [] : [property];
      }),
    );
  }
  return current;
}

/** `port: ${PORT}` reads a string from the environment; where the schema wants no string, it is coerced. */
function coerceInterpolated(config: unknown, positions: ConfigPositions): unknown {
  if (positions.interpolated.size === 0) return config;
  const copy = structuredClone(config);
  for (const path of positions.interpolated.values()) {
    if (path.length === 0) continue;
    let parent: unknown = copy;
    for (const segment of path.slice(0, -1)) parent = (parent as Record<string | number, unknown> | null)?.[segment];
    const last = path[path.length - 1]!;
    if (parent === null || typeof parent !== 'object') continue;
    const raw = (parent as Record<string | number, unknown>)[last];
    if (typeof raw !== 'string') continue;
    const types = new Set(schemasAt(path).map((schema) => schema.type));
    if (types.has('string') || types.has(undefined)) continue;
    for (const type of ['integer', 'number', 'boolean'] as const) {
      const value = types.has(type) ? coerce(raw, type) : undefined;
      if (value !== undefined) {
        (parent as Record<string | number, unknown>)[last] = value;
        break;
      }
    }
  }
  return copy;
}

function pathOf(instancePath: string, data: unknown): Path {
  const path: Path = [];
  let node = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(node) ? Number(segment) : undefined;
    path.push(index ?? segment);
    node = (node as Record<string | number, unknown> | null)?.[index ?? segment];
  }
  return path;
}

const isRequiredOnly = (schema: JsonSchema) =>
  Object.keys(schema).every((keyword) => keyword === 'required' || keyword === 'description');

/**
 * Folds the errors ajv reports for every branch of a oneOf/anyOf into the ones that matter: the errors of the
 * branch the value evidently meant (its type fits, its keys belong), else the combinator's own error alone.
 */
function collapse(errors: ErrorObject[]): ErrorObject[] {
  let remaining = [...errors];
  const combinators = errors
    .filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const combinator of combinators) {
    if (!remaining.includes(combinator)) continue;
    const prefix = `${combinator.schemaPath}/`;
    const inside = remaining.filter((error) => error.schemaPath.startsWith(prefix));
    remaining = remaining.filter((error) => !error.schemaPath.startsWith(prefix));
    const branches = combinator.schema as JsonSchema[];
    if (Array.isArray(combinator.params.passingSchemas) || branches.every(isRequiredOnly)) continue;
    const byBranch = new Map<number, ErrorObject[]>();
    for (const error of inside) {
      const branch = Number(error.schemaPath.slice(prefix.length).split('/')[0]);
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), error]);
    }
    const atLevel = (error: ErrorObject) => error.instancePath === combinator.instancePath;
    const fits = [...byBranch.values()].filter(
      (list) => !list.some((error) => atLevel(error) && ['type', 'const', 'enum'].includes(error.keyword)),
    );
    const belongs = fits.filter(
      (list) => !list.some((error) => atLevel(error) && error.keyword === 'additionalProperties'),
    );
    let chosen: ErrorObject[] | undefined;
    if (belongs.length === 1) chosen = belongs[0];
    else if (belongs.length === 0 && fits.length > 0) {
      const fewest = Math.min(...fits.map((list) => list.length));
      const best = fits.filter((list) => list.length === fewest);
      if (best.length === 1) chosen = best[0];
    }
    if (chosen !== undefined) remaining = [...remaining.filter((error) => error !== combinator), ...chosen];
  }
  return remaining;
}

interface Described {
  path: Path;
  message: string;
  /** Point at the key rather than the value (an unknown key). */
  atKey?: boolean;
}

const EMPTY_FILE = 'is empty: expected a mapping of keys to values, with at least `module` (or `stdio` or `upstream`)';

function describeError(error: ErrorObject, data: unknown): Described {
  const path = pathOf(error.instancePath, data);
  const schema = error.parentSchema as JsonSchema;
  const received = describeValue(error.data);
  switch (error.keyword) {
    case 'type':
      if (path.length === 0 && error.data === null) return { path, message: EMPTY_FILE };
      return { path, message: `expected ${describeSchema(schema)}; received ${received}` };
    case 'minimum':
    case 'maximum':
    case 'enum':
    case 'const':
    case 'pattern':
      return { path, message: `expected ${describeSchema(schema)}; received ${received}` };
    case 'minLength':
      // Lengths only: the value may be a secret.
      return {
        path,
        message: `expected ${describeSchema(schema)}; received ${String(error.data).length} character${String(error.data).length === 1 ? '' : 's'}`,
      };
    case 'minItems':
      return { path, message: `expected ${describeSchema(schema)}; received ${received}` };
    case 'required': {
      const missing = String(error.params.missingProperty);
      const property = schema.properties?.[missing];
      return {
        path: [...path, missing],
        message: `is required but missing${property === undefined ? '' : `: expected ${describeSchema(property)} (${(property.description ?? '').replace(/\.$/, '')})`}`,
      };
    }
    case 'additionalProperties': {
      const unknown = String(error.params.additionalProperty);
      const known = Object.keys(schema.properties ?? {});
      const suggestion = closest(unknown, known);
      return {
        path: [...path, unknown],
        atKey: true,
        message: `is not a known key${suggestion === undefined ? '' : ` (did you mean \`${suggestion}\`?)`}; known keys${path.length === 0 ? '' : ` of \`${dottedKey(path)}\``}: ${known.join(', ')}`,
      };
    }
    case 'oneOf':
    case 'anyOf': {
      // An empty file fails the type and the branches at once: one message for both.
      if (path.length === 0 && error.data === null) return { path, message: EMPTY_FILE };
      const branches = error.schema as JsonSchema[];
      if (branches.every(isRequiredOnly)) {
        const names = branches.map((branch) => `\`${branch.required![0]}\``);
        const present = branches
          .filter((branch) => Object.hasOwn((error.data ?? {}) as object, branch.required![0]!))
          .map((branch) => `\`${branch.required![0]}\``);
        const how = error.keyword === 'oneOf' ? 'exactly one of' : 'at least one of';
        return {
          path,
          message: `expected ${how} ${list(names, 'or')}; received ${present.length === 0 ? 'none' : list(present, 'and')}`,
        };
      }
      return { path, message: `expected ${describeSchema(schema)}; received ${received}` };
    }
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/** The environment variable that set a key or one of its parents, if one did. */
function overrideOf(key: string, positions: ConfigPositions): string | undefined {
  for (const [overridden, variable] of positions.overrides) {
    if (key === overridden || key.startsWith(`${overridden}.`) || key.startsWith(`${overridden}[`)) return variable;
  }
  return undefined;
}

function positionOf(path: Path, positions: ConfigPositions, atKey: boolean): Position | undefined {
  const key = dottedKey(path);
  const exact = atKey ? (positions.keys.get(key) ?? positions.values.get(key)) : positions.values.get(key);
  if (exact !== undefined) return exact;
  // A missing key: point at the object that lacks it.
  for (let length = path.length - 1; length >= 0; length--) {
    const parent = positions.values.get(dottedKey(path.slice(0, length)));
    if (parent !== undefined) return parent;
  }
  return undefined;
}

/**
 * Validates a parsed configuration against CONFIG_SCHEMA (after coercing interpolated values to the schema's
 * scalar types). Returns it typed; throws ConfigError with one problem per fault, at the file position of the
 * value at fault (of its parent for a missing key), or naming the environment variable that set it.
 */
export function validateConfig(config: unknown, positions: ConfigPositions): ConfigFile {
  const value = coerceInterpolated(config, positions);
  const validate = validator();
  if (validate(value)) return value as ConfigFile;
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of collapse(validate.errors ?? [])) {
    const described = describeError(error, value);
    const key = dottedKey(described.path);
    const variable = overrideOf(key, positions);
    const position =
      variable === undefined ? positionOf(described.path, positions, described.atKey === true) : undefined;
    const problem: ConfigProblem = {
      file: variable === undefined ? positions.file : `$${variable}`,
      ...position,
      key,
      message: described.message,
    };
    const text = formatProblem(problem);
    if (seen.has(text)) continue;
    seen.add(text);
    problems.push(problem);
  }
  problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
  throw new ConfigError(problems);
}
