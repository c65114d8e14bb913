/**
 * Integrity protection for 2026-07-28 `requestState` (multi-round-trip requests).
 *
 * A handler that needs input returns `input_required` with an opaque `requestState`; the client echoes it on
 * the retry. The client controls what it echoes, so the runtime seals the handler's state on the way out and
 * checks the seal on the way in, before the handler sees it: HMAC-SHA256 over the state, an expiry, and the
 * request it belongs to (method and tool/prompt/resource name), under a key every instance shares. The handler
 * keeps returning and reading plain state; a forged, altered, expired or transplanted state is refused with
 * 400 / -32602. The state is authenticated, not encrypted: do not put secrets in it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'rmcp1.';

export class RequestStateSealer {
  constructor(
    private readonly key: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  seal(state: string, binding: string): string {
    const payload = Buffer.from(JSON.stringify({ s: state, e: this.now() + this.ttlMs })).toString('base64url');
    return `${PREFIX}${payload}.${this.mac(payload, binding)}`;
  }

  /** The original state, or undefined when the token is malformed, altered, bound elsewhere or expired. */
  open(token: string, binding: string): string | undefined {
    if (!token.startsWith(PREFIX)) return undefined;
    const dot = token.lastIndexOf('.');
    if (dot <= PREFIX.length) return undefined;
    const payload = token.slice(PREFIX.length, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload, binding), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const { s, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { s?: unknown; e?: unknown };
      if (typeof s !== 'string' || typeof e !== 'number' || e < this.now()) return undefined;
      return s;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string, binding: string): string {
    return createHmac('sha256', this.key).update(payload).update('\0').update(binding).digest('base64url');
  }
}

/** What a requestState is bound to: the method and the name of what it acts on. */
export function requestStateBinding(
  method: string,
  params: Record<string, unknown> | undefined,
  principalKey: string | undefined,
): string {
  const target = params?.name ?? params?.uri ?? '';
  // Bound to the principal too (when auth is on): a state issued to one caller is worthless to another.
  return `${method}\0${typeof target === 'string' ? target : ''}\0${principalKey ?? ''}`;
}
