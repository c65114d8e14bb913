/**
 * One shared copy of each distinct client identity (the initialize params as JSON) for the 2025-era sessions of
 * identical clients: ten thousand sessions of one client build then hold one string, not ten thousand.
 *
 * Bounded twice, by distinct identities and by their bytes; past either bound a session keeps its own copy
 * (which goes when the session goes). An entry is counted by the sessions holding it and released when the
 * last of them ends, expires or is deleted, so identities of clients that have gone cost nothing.
 */
export interface InternerStats {
  /** Distinct identities held. */
  identities: number;
  /** Their bytes (UTF-8 of the JSON). */
  bytes: number;
}

interface Entry {
  readonly value: string;
  readonly bytes: number;
  users: number;
}

export class IdentityInterner {
  private readonly entries = new Map<string, Entry>();
  /** The entry each session holds, by session id: what to release when it ends. */
  private readonly holders = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxIdentities: number,
    private readonly maxBytes: number,
  ) {}

  /**
   * The identity `sessionId` should keep: the shared copy when there is one (or room for one), else its own.
   * A session holds at most one: acquiring again releases what it held.
   */
  acquire(sessionId: string, identity: string): string {
    this.release(sessionId);
    let entry = this.entries.get(identity);
    if (entry === undefined) {
      if (this.entries.size >= this.maxIdentities) return identity;
      // Measured once, when the entry is made; a hit costs the map lookup only.
      const bytes = Buffer.byteLength(identity);
      if (this.bytes + bytes > this.maxBytes) return identity;
      entry = { value: identity, bytes, users: 0 };
      this.entries.set(identity, entry);
      this.bytes += bytes;
    }
    entry.users++;
    this.holders.set(sessionId, entry);
    return entry.value;
  }

  /** The session ended (or its initialize failed): its share of the identity it held is given back. */
  release(sessionId: string): void {
    const entry = this.holders.get(sessionId);
    if (entry === undefined) return;
    this.holders.delete(sessionId);
    if (--entry.users > 0) return;
    this.entries.delete(entry.value);
    this.bytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.holders.clear();
    this.bytes = 0;
  }

  stats(): InternerStats {
    return { identities: this.entries.size, bytes: this.bytes };
  }
}
