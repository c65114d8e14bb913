/**
 * Who a request comes from, as every authentication method reports it. Handlers receive it through the SDK's
 * `authInfo` (`ctx.http.authInfo.extra.principal`), authorization and rate limits key on it, and 2025-era
 * sessions and WebSocket connections are bound to its `key`.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';

export interface Principal {
  /** How it was authenticated. */
  kind: 'jwt' | 'api-key' | 'custom';
  /** The subject: a JWT's `sub`, an API key's name, or what a custom authenticator says. */
  subject: string;
  /** Granted scopes. */
  scopes: string[];
  /** The credential's own id, when it has one: a JWT's `jti`, an API key's id. */
  credentialId?: string;
  /** The issuer of a JWT. */
  issuer?: string;
  /** When the credential expires, in seconds since the epoch. */
  expiresAt?: number;
  /** The client the credential was issued to (a JWT's `client_id`/`azp`), when known. */
  clientId?: string;
}

/**
 * A stable identity for binding and limits: two requests with the same key are the same caller. A JWT's
 * subject is only unique within its issuer; an API key is its own identity (its name is only a label).
 */
export function principalKey(principal: Principal): string {
  switch (principal.kind) {
    case 'jwt':
      return `jwt:${principal.issuer ?? ''}:${principal.subject}`;
    case 'api-key':
      return `key:${principal.credentialId ?? principal.subject}`;
    case 'custom':
      return `custom:${principal.subject}`;
  }
}

/**
 * The SDK's AuthInfo for a principal. `token` is deliberately not the credential: handlers never hold the raw
 * bearer token or API key, so they cannot pass it on to another service by accident (the spec forbids token
 * passthrough). The principal travels in `extra.principal`.
 */
export function toAuthInfo(principal: Principal): AuthInfo {
  return {
    token: '[not forwarded]',
    clientId: principal.clientId ?? principal.subject,
    scopes: principal.scopes,
    ...(principal.expiresAt !== undefined && { expiresAt: principal.expiresAt }),
    extra: { principal },
  };
}
