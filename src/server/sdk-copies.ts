/**
 * Which copy of `@modelcontextprotocol/server` a factory's product was built from.
 *
 * remote-mcp binds an instance to the 2026-07-28 era by connecting it to a subclass of the SDK's
 * `PerRequestHTTPServerTransport`, and the SDK recognises that class with `instanceof` — against the class of the
 * copy the instance itself comes from. A project can load two copies without knowing it:
 *
 *  - remote-mcp installed as a symlink (`npm install /path/to/remote-mcp`) resolves the SDK from its own folder's
 *    node_modules, while the factory resolves the project's;
 *  - a CommonJS factory (`require`) gets the SDK's CommonJS build while remote-mcp, an ES module, gets the ES
 *    build: two sets of classes from one folder.
 *
 * Copies of one version are the same code, so remote-mcp serves the product through the classes of the product's
 * own copy. Copies of different versions are refused, naming both and the fix: the non-public steps of
 * sdk-bridge.ts are checked against remote-mcp's copy only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import * as ours from '@modelcontextprotocol/server';

import { RemoteMcpSdkError } from '../errors.js';

const SDK = '@modelcontextprotocol/server';

/** One loaded copy of the SDK: its classes and where it is installed. */
export interface SdkCopy {
  readonly McpServer: typeof ours.McpServer;
  readonly Server: typeof ours.Server;
  readonly PerRequestHTTPServerTransport: typeof ours.PerRequestHTTPServerTransport;
  /** The package folder; undefined when it cannot be found (remote-mcp's copy bundled, say). */
  readonly root: string | undefined;
  readonly version: string | undefined;
  readonly build: 'ES module' | 'CommonJS';
}

interface PackageJson {
  name?: string;
  version?: string;
  exports?: unknown;
  main?: string;
}

function readPackage(root: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** The SDK's package folder as Node resolves it for a module at `from` (a file path); undefined when none is. */
function sdkRootFrom(from: string): string | undefined {
  let file: string;
  try {
    file = createRequire(from).resolve(SDK);
  } catch {
    return undefined;
  }
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (readPackage(dir)?.name === SDK) return dir;
  }
  return undefined;
}

/** The file `exports["."]` names for the condition, as Node picks it (first matching key, nested objects). */
function entryFile(pkg: PackageJson, condition: 'import' | 'require'): string | undefined {
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (target === null || typeof target !== 'object' || Array.isArray(target)) return undefined;
    for (const [key, value] of Object.entries(target)) {
      if (key === condition || key === 'node' || key === 'default') {
        const found = pick(value);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  const exports = pkg.exports as Record<string, unknown> | string | undefined;
  if (exports === undefined) return pkg.main;
  const dot = typeof exports === 'object' && !Array.isArray(exports) && '.' in exports ? exports['.'] : exports;
  return pick(dot);
}

function copyFrom(module: Partial<SdkCopy>, root: string | undefined, build: SdkCopy['build']): SdkCopy | undefined {
  const { McpServer, Server, PerRequestHTTPServerTransport } = module;
  if (typeof McpServer !== 'function' || typeof Server !== 'function') return undefined;
  if (typeof PerRequestHTTPServerTransport !== 'function') return undefined;
  return {
    McpServer,
    Server,
    PerRequestHTTPServerTransport,
    root,
    version: root === undefined ? undefined : readPackage(root)?.version,
    build,
  };
}

const ourRoot = sdkRootFrom(fileURLToPath(import.meta.url));
/** The copy remote-mcp imports, the one sdk-bridge.ts is checked against. */
export const OUR_SDK: SdkCopy = copyFrom(ours, ourRoot, 'ES module')!;

/**
 * Files from whose folder the SDK is looked up when a product is not an instance of remote-mcp's copy: the
 * server module the CLI loads (added with {@link addSdkSearchPath}), the program's main script, the working
 * directory.
 */
const searchPaths = new Set<string>();

/** Tells remote-mcp where a server factory module lives, so its copy of the SDK can be found. */
export function addSdkSearchPath(file: string): void {
  searchPaths.add(resolve(file));
}

/** Both builds of the copy in each folder, lazily; the first is always remote-mcp's own. */
async function* candidates(): AsyncGenerator<SdkCopy> {
  yield OUR_SDK;
  const from = [...searchPaths, ...(process.argv[1] === undefined ? [] : [process.argv[1]])];
  from.push(join(process.cwd(), 'package.json'));
  const roots = new Set<string>(ourRoot === undefined ? [] : [ourRoot]);
  for (const path of from) {
    const root = sdkRootFrom(path);
    if (root !== undefined) roots.add(root);
  }
  for (const root of roots) {
    const pkg = readPackage(root);
    if (pkg === undefined) continue;
    const esm = entryFile(pkg, 'import');
    if (esm !== undefined && root !== ourRoot) {
      const loaded = copyFrom(await import(pathToFileURL(join(root, esm)).href), root, 'ES module');
      if (loaded !== undefined) yield loaded;
    }
    const cjs = entryFile(pkg, 'require');
    if (cjs !== undefined) {
      const loaded = copyFrom(createRequire(join(root, 'package.json'))(join(root, cjs)), root, 'CommonJS');
      if (loaded !== undefined) yield loaded;
    }
  }
}

const copyOfClass = new WeakMap<object, SdkCopy>();

/** The copy a product is known to come from (after {@link sdkCopyOf}); remote-mcp's own otherwise. */
export function knownCopyOf(product: object): SdkCopy {
  return copyOfClass.get(product.constructor) ?? OUR_SDK;
}

const where = (copy: SdkCopy) =>
  `${copy.version ?? 'unknown version'} (${copy.build} build) at ${copy.root ?? 'an unknown location'}`;

/**
 * The copy of the SDK a factory's product comes from, when remote-mcp can serve it: its own, or another copy of
 * the same version. Throws {@link RemoteMcpSdkError} naming both copies otherwise.
 */
export async function sdkCopyOf(product: unknown): Promise<SdkCopy> {
  if (product === null || typeof product !== 'object') {
    throw new RemoteMcpSdkError(
      `remote-mcp: the server factory must return a new McpServer (or Server) from @modelcontextprotocol/server; it returned ${product === null ? 'null' : typeof product}.`,
    );
  }
  const known = copyOfClass.get(product.constructor);
  if (known !== undefined) return known;
  const seen: SdkCopy[] = [];
  for await (const copy of candidates()) {
    if (product instanceof copy.McpServer || product instanceof copy.Server) {
      if (copy !== OUR_SDK && copy.version !== OUR_SDK.version) throw differentVersions(copy);
      copyOfClass.set(product.constructor, copy);
      return copy;
    }
    seen.push(copy);
  }
  const name = (product.constructor as { name?: string } | undefined)?.name ?? '';
  if (typeof (product as { connect?: unknown }).connect !== 'function') {
    throw new RemoteMcpSdkError(
      `remote-mcp: the server factory must return a new McpServer (or Server) from ${SDK}; it returned ${name === '' || name === 'Object' ? 'a plain object' : `a ${name}`}.`,
    );
  }
  const others = seen.filter((copy) => copy !== OUR_SDK);
  throw new RemoteMcpSdkError(
    [
      `remote-mcp: the server factory returned a ${name || 'server'} from a copy of ${SDK} that remote-mcp cannot find.`,
      `  remote-mcp uses ${where(OUR_SDK)}`,
      ...others.map((copy) => `  not from        ${where(copy)}`),
      `Fix: make the factory import ${SDK} from the project remote-mcp is installed in (\`npm ls ${SDK}\` lists the copies).`,
    ].join('\n'),
  );
}

function differentVersions(theirs: SdkCopy): RemoteMcpSdkError {
  const version = OUR_SDK.version ?? 'the same version';
  return new RemoteMcpSdkError(
    [
      `remote-mcp: two different versions of ${SDK} are loaded, and remote-mcp can only serve a server built with its own version:`,
      `  your server factory uses ${where(theirs)}`,
      `  remote-mcp uses          ${where(OUR_SDK)}`,
      `Fix: use one version. Either run \`npm install ${SDK}@${version}\` in your project, or install remote-mcp from a`,
      `tarball (\`npm pack\` in its folder, then \`npm install /path/to/remote-mcp-<version>.tgz\`) rather than from its folder,`,
      `so that npm installs one copy for both (\`npm dedupe\` merges copies left behind). \`npm ls ${SDK}\` lists the copies.`,
    ].join('\n'),
  );
}
