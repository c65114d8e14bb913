/**
 * API keys: `rmcp_<id>_<secret>`, minted by `remote-mcp keys create`, presented as `Authorization: ApiKey <key>`
 * or `X-API-Key: <key>`. The keys file stores only SHA-256 hashes (a key is 32 random bytes, so a fast hash is
 * as strong as a slow one and keeps verification cheap); the id part finds the entry and the hash of the whole key
 * is compared in constant time. The file is re-read when it changes (checked at most once per reloadIntervalMs,
 * default one second), so a key revoked with `remote-mcp keys revoke` stops working within that interval without
 * a restart; the ids a reload invalidates are reported to listeners (src/security/credential-watch.ts), which end
 * what those keys opened.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';

import type { Principal } from './principal.js';

export interface ApiKeyEntry {
  id: string;
  name: string;
  scopes: string[];
  /** `sha256:<hex>` of the whole key. */
  hash: string;
  createdAt: string;
  revokedAt?: string;
}

export interface ApiKeysFile {
  version: 1;
  keys: ApiKeyEntry[];
}

const KEY_PATTERN = /^rmcp_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export const API_KEY_DEFAULTS = Object.freeze({
  /** How often the keys file is checked for changes, in ms. */
  reloadIntervalMs: 1_000,
});

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Reads and checks a keys file; throws an Error naming the file and the problem. */
export function readKeysFile(path: string): ApiKeysFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, keys: [] };
    throw new Error(`remote-mcp: the API keys file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const file = parsed as Partial<ApiKeysFile>;
  if (file?.version !== 1 || !Array.isArray(file.keys))
    throw new Error(`remote-mcp: the API keys file ${path} must be {"version": 1, "keys": [...]}`);
  file.keys.forEach((entry, index) => {
    const ok =
      typeof entry?.id === 'string' &&
      typeof entry.name === 'string' &&
      Array.isArray(entry.scopes) &&
      entry.scopes.every((scope) => typeof scope === 'string') &&
      typeof entry.hash === 'string' &&
      /^sha256:[0-9a-f]{64}$/.test(entry.hash);
    if (!ok)
      throw new Error(
        `remote-mcp: the API keys file ${path}: keys[${index}] needs id, name, scopes (strings) and hash ("sha256:<64 hex>")`,
      );
  });
  return file as ApiKeysFile;
}

/** Writes a keys file atomically (a reader never sees half a file), readable by the owner only. */
export function writeKeysFile(path: string, file: ApiKeysFile): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Mints a key: returns the key (show it once) and the entry to store. */
export function mintApiKey(name: string, scopes: string[], now = new Date()): { key: string; entry: ApiKeyEntry } {
  const id = randomBytes(8).toString('hex').slice(0, 12);
  const key = `rmcp_${id}_${randomBytes(32).toString('base64url')}`;
  return {
    key,
    entry: { id, name, scopes, hash: `sha256:${sha256(key).toString('hex')}`, createdAt: now.toISOString() },
  };
}

export class ApiKeyVerifier {
  private entries = new Map<string, { entry: ApiKeyEntry; hash: Buffer }>();
  private checkedAt = 0;
  private signature = '';
  private readonly listeners = new Set<(ids: string[]) => void>();

  constructor(
    private readonly path: string,
    private readonly onError: (error: Error) => void,
    readonly reloadIntervalMs: number = API_KEY_DEFAULTS.reloadIntervalMs,
  ) {
    this.reload(true);
  }

  /** Whether the key with this id is in the file and not revoked (as of the last reload). */
  isValid(id: string): boolean {
    const known = this.entries.get(id);
    return known !== undefined && known.entry.revokedAt === undefined;
  }

  /** Calls `listener` with the ids a reload made invalid (revoked, removed, or given another hash). */
  onInvalidated(listener: (ids: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Checks the file now (one stat; read only when it changed), whenever it was last checked. */
  refresh(): void {
    this.checkedAt = Date.now();
    this.reload(false);
  }

  /** The principal of a valid, unrevoked key; undefined otherwise. */
  verify(presented: string): Principal | undefined {
    this.reloadIfChanged();
    const match = KEY_PATTERN.exec(presented);
    const known = match === null ? undefined : this.entries.get(match[1]!);
    // Hash and compare even when the id is unknown, so timing does not tell which ids exist.
    const expected = known?.hash ?? DUMMY_HASH;
    const equal = timingSafeEqual(sha256(presented), expected);
    if (!equal || known === undefined || known.entry.revokedAt !== undefined) return undefined;
    return {
      kind: 'api-key',
      subject: known.entry.name,
      scopes: [...known.entry.scopes],
      credentialId: known.entry.id,
    };
  }

  private reloadIfChanged(): void {
    const now = Date.now();
    if (now - this.checkedAt < this.reloadIntervalMs) return;
    this.checkedAt = now;
    this.reload(false);
  }

  private reload(initial: boolean): void {
    let signature: string;
    try {
      const stat = statSync(this.path);
      signature = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch {
      signature = 'missing';
    }
    if (signature === this.signature) return;
    try {
      const file = readKeysFile(this.path);
      const previous = this.entries;
      this.entries = new Map(
        file.keys.map((entry) => [entry.id, { entry, hash: Buffer.from(entry.hash.slice('sha256:'.length), 'hex') }]),
      );
      this.signature = signature;
      if (!initial && this.listeners.size > 0) {
        const invalidated: string[] = [];
        for (const [id, { entry }] of previous) {
          const next = this.entries.get(id)?.entry;
          if (entry.revokedAt === undefined && (!this.isValid(id) || next?.hash !== entry.hash)) invalidated.push(id);
        }
        if (invalidated.length > 0) for (const listener of [...this.listeners]) listener(invalidated);
      }
    } catch (error) {
      // At start a broken file is a configuration error; later the last good keys stay in force.
      if (initial) throw error;
      this.onError(error as Error);
    }
  }
}

const DUMMY_HASH = sha256('remote-mcp: no such key');
