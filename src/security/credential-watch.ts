/**
 * Credentials on long-lived connections. Authentication runs once per HTTP request or WebSocket upgrade, but a
 * WebSocket, an SSE stream or a 2025-era session outlives the request that opened it. Whatever a transport
 * opens for a principal it registers here as a lease, with a function that ends it; the watch calls that function
 * when the credential the thing was opened with stops being valid:
 *   - at the credential's expiry (a JWT's `exp`, or `expiresAt` from a custom authenticator), by this server's
 *     clock (the clock tolerance applies to accepting a token, not to how long it lasts);
 *   - when its API key is revoked, removed from the keys file or given another hash (the file is checked every
 *     `auth.apiKeys.reloadIntervalMs` while such a lease is open).
 * Transports decide only how a thing ends (close 1008, end the SSE response, delete the session); each forced end
 * leaves an audit line (outcome `ended`, reason `credential-expired` or `credential-revoked`).
 *
 * Cost: nothing for principals that neither expire nor can be revoked (and nothing without auth); one unref'd
 * timer per lease whose credential expires; one stat of the keys file per interval while API-key leases exist.
 */
import type { AuditLog } from '../observability/audit-log.js';
import { newRequestId } from '../observability/audit-log.js';
import type { Identity } from './request-principal.js';

export type CredentialEnd = 'expired' | 'revoked';

/** What a lease holds open: the metrics' stream kinds, a WebSocket, or a 2025-era session record. */
export type LeaseKind = 'websocket' | 'listen' | 'session-get' | 'http-sse' | 'session';

export interface LeaseContext {
  kind: LeaseKind;
  transport: 'http' | 'sse' | 'websocket';
  era?: 'modern' | 'legacy';
  clientIp: string;
  /**
   * Whether the credential's expiry ends it. Default true. A Streamable HTTP session record is bound to the
   * principal, not to one token (each request presents the latest), so only revocation ends it.
   */
  expires?: boolean;
}

/** Where revocations come from: the API keys file (src/security/api-keys.ts). */
export interface RevocationSource {
  readonly reloadIntervalMs: number;
  isValid(id: string): boolean;
  onInvalidated(listener: (ids: string[]) => void): () => void;
  refresh(): void;
}

/** What a client is told: the WebSocket close reason, and the error that ends a 2026-07-28 subscription. */
export const CREDENTIAL_ENDED: Record<CredentialEnd, { closeReason: string; message: string }> = {
  expired: { closeReason: 'The credential has expired', message: 'Unauthorized: the credential has expired' },
  revoked: { closeReason: 'The credential was revoked', message: 'Unauthorized: the credential was revoked' },
};

/** Releases a lease (the thing ended on its own); idempotent. */
export type Release = () => void;

/** What watch() returns when nothing needs watching. */
export const NO_LEASE: Release = () => {};
/** setTimeout's longest delay; a later expiry re-arms. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Lease {
  readonly identity: Identity;
  readonly context: LeaseContext;
  readonly end: (reason: CredentialEnd) => void;
  readonly keyId: string | undefined;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

export class CredentialWatch {
  /** Leases of API-key principals, by key id. */
  private readonly byKey = new Map<string, Set<Lease>>();
  /** Every open lease. */
  private readonly leases = new Set<Lease>();
  private poll: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly options: {
      revocations: RevocationSource | undefined;
      audit: AuditLog | undefined;
      onError: (error: Error) => void;
    },
  ) {
    this.unsubscribe = options.revocations?.onInvalidated((ids) => this.revoked(ids)) ?? NO_LEASE;
  }

  /**
   * Watches what `identity` opened: `end` runs once, when its credential stops being valid, unless the returned
   * release runs first. Without auth (no identity), or for a credential that neither expires nor can be revoked,
   * nothing is kept.
   */
  watch(identity: Identity | undefined, context: LeaseContext, end: (reason: CredentialEnd) => void): Release {
    if (identity === undefined || this.closed) return NO_LEASE;
    const { principal } = identity;
    const revocations = this.options.revocations;
    const keyId = principal.kind === 'api-key' && revocations !== undefined ? principal.credentialId : undefined;
    const expiresAt = context.expires === false ? undefined : principal.expiresAt;
    if (keyId === undefined && expiresAt === undefined) return NO_LEASE;
    const lease: Lease = { identity, context, end, keyId, timer: undefined, done: false };
    this.leases.add(lease);
    if (keyId !== undefined) {
      const leases = this.byKey.get(keyId) ?? new Set<Lease>();
      this.byKey.set(keyId, leases);
      leases.add(lease);
      this.startPolling();
      // Revoked between the request's authentication and now: end it on the next turn, like an expiry in the past.
      if (!revocations!.isValid(keyId)) setImmediate(() => this.finish(lease, 'revoked'));
    }
    if (expiresAt !== undefined) this.arm(lease, expiresAt * 1000);
    return () => this.release(lease);
  }

  /** Stops the timers (server closing); open leases are not ended, and nothing more is watched. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
    for (const lease of this.leases) {
      lease.done = true;
      clearTimeout(lease.timer);
    }
    this.leases.clear();
    this.byKey.clear();
  }

  private arm(lease: Lease, expiresAtMs: number): void {
    const delay = expiresAtMs - Date.now();
    lease.timer = setTimeout(
      () => {
        if (Date.now() < expiresAtMs) this.arm(lease, expiresAtMs);
        else this.finish(lease, 'expired');
      },
      Math.min(Math.max(delay, 0), MAX_DELAY_MS),
    );
    lease.timer.unref();
  }

  private startPolling(): void {
    const revocations = this.options.revocations;
    if (this.poll !== undefined || revocations === undefined) return;
    this.poll = setInterval(() => revocations.refresh(), revocations.reloadIntervalMs);
    this.poll.unref();
  }

  private revoked(ids: string[]): void {
    for (const id of ids) {
      const leases = this.byKey.get(id);
      if (leases !== undefined) for (const lease of [...leases]) this.finish(lease, 'revoked');
    }
  }

  private release(lease: Lease): void {
    if (lease.done) return;
    lease.done = true;
    this.leases.delete(lease);
    if (lease.timer !== undefined) clearTimeout(lease.timer);
    if (lease.keyId === undefined) return;
    const leases = this.byKey.get(lease.keyId);
    leases?.delete(lease);
    if (leases?.size === 0) this.byKey.delete(lease.keyId);
    if (this.byKey.size === 0 && this.poll !== undefined) {
      clearInterval(this.poll);
      this.poll = undefined;
    }
  }

  private finish(lease: Lease, reason: CredentialEnd): void {
    if (lease.done) return;
    this.release(lease);
    const { identity, context } = lease;
    this.options.audit?.record({
      requestId: newRequestId(),
      principal: identity.key,
      subject: identity.principal.subject,
      clientIp: context.clientIp,
      transport: context.transport,
      ...(context.era !== undefined && { era: context.era }),
      outcome: 'ended',
      reason: `credential-${reason}`,
      stream: context.kind,
    });
    try {
      lease.end(reason);
    } catch (error) {
      this.options.onError(error as Error);
    }
  }
}
