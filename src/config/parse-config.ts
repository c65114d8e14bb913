/**
 * Parsing configuration text: YAML or JSON (JSON is YAML) with the position of every node, `${VAR}`
 * interpolation from the environment, duplicate keys and alias bombs refused.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node as YamlNode,
} from 'yaml';

import {
  ConfigError,
  dottedKey,
  type ConfigPositions,
  type ConfigProblem,
  type Path,
  type Position,
} from './config-problems.js';

// ---------------------------------------------------------------------------------------------------------------
// Parsing and interpolation

/** Aliases may repeat a subtree; this bounds how many nodes they expand to (a "billion laughs" file stops here). */
const MAX_ALIAS_NODES = 10_000;
const VARIABLE_REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

interface Interpolation {
  value: string;
  /** Problems with their offset in the raw string. */
  problems: Array<{ offset: number; reference: string; message: string }>;
}

/** `${NAME}` → env.NAME; `${NAME:-fallback}` when unset or empty; `$${` → a literal `${`. */
function interpolate(raw: string, env: NodeJS.ProcessEnv): Interpolation {
  const problems: Interpolation['problems'] = [];
  let value = '';
  let index = 0;
  while (index < raw.length) {
    const dollar = raw.indexOf('$', index);
    if (dollar === -1) {
      value += raw.slice(index);
      break;
    }
    value += raw.slice(index, dollar);
    if (raw.startsWith('$${', dollar)) {
      value += '${';
      index = dollar + 3;
    } else if (raw.startsWith('${', dollar)) {
      const end = raw.indexOf('}', dollar + 2);
      if (end === -1) {
        problems.push({
          offset: dollar,
          reference: '${',
          message: 'has a `${` without its closing `}` (write `$${` for a literal `${`)',
        });
        value += raw.slice(dollar);
        break;
      }
      const body = raw.slice(dollar + 2, end);
      const match = VARIABLE_REFERENCE.exec(body);
      if (match === null) {
        problems.push({
          offset: dollar,
          reference: `\${${body}}`,
          message: `has an invalid reference \`\${${body}}\`: expected \${NAME} or \${NAME:-fallback}`,
        });
      } else {
        const [, name, fallback] = match as unknown as [string, string, string | undefined];
        const variable = env[name];
        if (fallback !== undefined) value += variable === undefined || variable === '' ? fallback : variable;
        else if (variable !== undefined) value += variable;
        else
          problems.push({
            offset: dollar,
            reference: `\${${name}`,
            message: `references the environment variable ${name}, which is not set (set it, or write \${${name}:-<fallback>})`,
          });
      }
      index = end + 1;
    } else {
      value += '$';
      index = dollar + 1;
    }
  }
  return { value, problems };
}

export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, not assignment: a `__proto__` key must stay data, not change the object's prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Parses YAML or JSON and interpolates `${VAR}` in string values, recording where every key and value is.
 * Throws ConfigError with every syntax error, duplicate key and unset variable.
 */
export function parseConfigSource(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv,
): { config: unknown; positions: ConfigPositions } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number | undefined): Position => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line, column: col };
  };
  const problems: ConfigProblem[] = [];
  for (const error of [...document.errors, ...document.warnings]) {
    const position = at(error.pos[0]);
    // One problem per place: the parser often explains one mistake twice.
    if (problems.some((problem) => problem.line === position.line && problem.column === position.column)) continue;
    problems.push({ file, ...position, key: '', message: `is not valid YAML or JSON: ${error.message}` });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const positions: ConfigPositions = {
    file,
    values: new Map(),
    keys: new Map(),
    interpolated: new Map(),
    overrides: new Map(),
  };
  let aliasNodes = 0;
  const expanding = new Set<YamlNode>();

  const convert = (node: unknown, path: Path, viaAlias: boolean): unknown => {
    const key = dottedKey(path);
    if (node === null || node === undefined) {
      if (!positions.values.has(key)) positions.values.set(key, { line: 1, column: 1 });
      return null;
    }
    const start = (node as YamlNode).range?.[0];
    if (start !== undefined) positions.values.set(key, at(start));
    if (viaAlias && ++aliasNodes > MAX_ALIAS_NODES) {
      problems.push({ file, ...at(start), key, message: `expands aliases to more than ${MAX_ALIAS_NODES} values` });
      return null;
    }
    if (isAlias(node)) {
      const target = node.resolve(document as Document);
      if (target === undefined || expanding.has(target)) {
        problems.push({
          file,
          ...at(start),
          key,
          message: `is an alias *${node.source} ${target === undefined ? 'with no anchor before it' : 'that contains itself'}`,
        });
        return null;
      }
      expanding.add(target);
      const value = convert(target, path, true);
      expanding.delete(target);
      if (start !== undefined) positions.values.set(key, at(start));
      return value;
    }
    if (isScalar(node)) {
      const value = node.value;
      if (typeof value === 'string') {
        if (!value.includes('$')) return value;
        const result = interpolate(value, env);
        const source = start === undefined ? '' : text.slice(start, node.range![1]);
        for (const problem of result.problems) {
          const found = source.indexOf(problem.reference);
          problems.push({ file, ...at(found === -1 ? start : start! + found), key, message: problem.message });
        }
        if (result.value !== value || value.includes('${')) positions.interpolated.set(key, [...path]);
        return result.value;
      }
      if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
        return value;
      problems.push({
        file,
        ...at(start),
        key,
        message: `is ${typeof value === 'number' ? String(value) : `a ${node.tag ?? typeof value} value`}, which a configuration cannot hold`,
      });
      return null;
    }
    if (isMap(node)) {
      const result: Record<string, unknown> = {};
      const seen = new Map<string, Position>();
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyStart = keyNode?.range?.[0];
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
          problems.push({ file, ...at(keyStart ?? start), key, message: 'has a key that is not a plain name' });
          continue;
        }
        const name = String(keyNode.value);
        const childPath = [...path, name];
        const childKey = dottedKey(childPath);
        const keyPosition = at(keyStart);
        const first = seen.get(name);
        if (first !== undefined) {
          problems.push({
            file,
            ...keyPosition,
            key: childKey,
            message: `is defined twice (first at line ${first.line}, column ${first.column})`,
          });
          continue;
        }
        seen.set(name, keyPosition);
        positions.keys.set(childKey, keyPosition);
        positions.values.set(childKey, keyPosition); // replaced by the value's own position when it has one
        setOwn(result, name, convert(pair.value, childPath, viaAlias));
      }
      return result;
    }
    if (isSeq(node)) return node.items.map((item, index) => convert(item, [...path, index], viaAlias));
    problems.push({ file, ...at(start), key, message: 'is not a value a configuration can hold' });
    return null;
  };

  const config = convert(document.contents, [], false);
  if (document.contents === null) positions.values.set('', { line: 1, column: 1 });
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, positions };
}

/** Parses YAML or JSON and interpolates `${VAR}`; throws ConfigError with positions. See parseConfigSource. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv): unknown {
  return parseConfigSource(text, file, env).config;
}
