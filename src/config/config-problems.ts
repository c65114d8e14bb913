/**
 * How configuration problems are located and worded: every problem names the file position, the dotted key,
 * what was expected and what was received, and a misspelt key gets the closest known one.
 */
import type { JsonSchema } from './config-schema.js';

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  /** The dotted key at fault (`auth.jwt.issuer[0]`); '' for the file as a whole. */
  key: string;
  message: string;
}

/** Every problem of a configuration, one per line: `<file>:<line>:<column>: \`<key>\` <message>`. */
export class ConfigError extends Error {
  readonly code = 'REMOTE_MCP_INVALID_CONFIG';

  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}: ${problem.key === '' ? '' : `\`${problem.key}\` `}${problem.message}`;
}

export interface Position {
  line: number;
  column: number;
}

/** Where each part of a parsed configuration came from. Keys are dotted keys as in ConfigProblem.key. */
export interface ConfigPositions {
  file: string;
  /** Where each value starts ('' is the document). */
  values: Map<string, Position>;
  /** Where each mapping key is written. */
  keys: Map<string, Position>;
  /** Values that contain `${VAR}` interpolation, by dotted key → path: coerced to the schema's type if it is not a string. */
  interpolated: Map<string, Path>;
  /** Values set by an environment variable: dotted key → variable name. */
  overrides: Map<string, string>;
}

export type Path = Array<string | number>;

// ---------------------------------------------------------------------------------------------------------------
// Keys and values in messages

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `['auth', 'jwt', 'issuer', 0]` → `auth.jwt.issuer[0]`; keys that are not identifiers are quoted: `tools["admin_*"]`. */
export function dottedKey(path: Path): string {
  let key = '';
  for (const segment of path) {
    if (typeof segment === 'number') key += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) key += key === '' ? segment : `.${segment}`;
    else key += `[${JSON.stringify(segment)}]`;
  }
  return key;
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const PATTERNS: Record<string, string> = {
  '^/[^?#]*$': 'a path starting with "/", without ? or #',
  '^https?://': 'an http(s) URL',
};

/** What a schema accepts, in words: "an integer from 0 to 65535", "an object { certFile, keyFile }". */
export function describeSchema(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum !== undefined) return `one of ${schema.enum.map((value) => JSON.stringify(value)).join(', ')}`;
  const branches = schema.oneOf ?? schema.anyOf;
  if (branches !== undefined && schema.type === undefined) return list(branches.map(describeSchema), 'or');
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const noun = schema.type === 'integer' ? 'an integer' : 'a number';
      if (schema.minimum !== undefined && schema.maximum !== undefined)
        return `${noun} from ${schema.minimum} to ${schema.maximum}`;
      return schema.minimum !== undefined ? `${noun} >= ${schema.minimum}` : noun;
    }
    case 'string':
      if (schema.pattern !== undefined) return PATTERNS[schema.pattern] ?? `a string matching /${schema.pattern}/`;
      return (schema.minLength ?? 0) > 1 ? `a string of at least ${schema.minLength} characters` : 'a non-empty string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return `a ${(schema.minItems ?? 0) > 0 ? 'non-empty ' : ''}list of ${schema.items?.enum !== undefined ? `values (${schema.items.enum.join(', ')})` : `${schema.items?.type ?? 'value'}s`}`;
    case 'object': {
      const keys = Object.keys(schema.properties ?? {});
      return keys.length > 0 && keys.length <= 4 ? `an object { ${keys.join(', ')} }` : 'an object';
    }
    default:
      return 'a value';
  }
}

export function list(items: string[], conjunction: 'or' | 'and'): string {
  return items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/** Levenshtein distance, case-insensitive: "did you mean" suggestions for misspelt keys. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, index) => index);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)));
    previous = current;
  }
  return previous[y.length]!;
}

export function closest(key: string, known: string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d <= 2 && (best === undefined || d < best.distance)) best = { key: candidate, distance: d };
  }
  return best?.key;
}
