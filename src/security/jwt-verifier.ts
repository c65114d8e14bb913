/**
 * Bearer JWT verification with `jose`. The key source is exactly one of a shared secret (HS*), a PEM public key
 * or a JWKS URL (fetched on demand, cached, refetched on an unknown `kid`). The algorithm allowlist follows from
 * the key source (HS* for a secret, asymmetric algorithms otherwise), so `alg: none` and HS/RS confusion (a token
 * signed with the public key as an HMAC secret) are refused by construction: jose checks the key type against
 * the algorithm as well.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { createPublicKey, type KeyObject } from 'node:crypto';

import { RemoteMcpOptionError } from '../errors.js';
import type { Principal } from './principal.js';

export interface JwtOptions {
  /** Shared secret for HS256/384/512 (at least 32 bytes). */
  secret?: string;
  /** PEM public key (SPKI) for RS*, PS*, ES* or EdDSA. */
  publicKey?: string;
  /** JWKS URL of the authorization server. */
  jwksUrl?: string;
  /** Accepted `iss` value(s). Required. */
  issuer: string | string[];
  /** Accepted `aud` value(s): this server's resource identifier (RFC 8707). Required. */
  audience: string | string[];
  /** Allowed `alg` values. Default: HS256/HS384/HS512 with `secret`, else RS256/RS384/RS512/PS256/PS384/PS512/ES256/ES384/ES512/EdDSA. */
  algorithms?: string[];
  /** Allowed clock skew for exp/nbf/iat, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** How long fetched JWKS keys are trusted before a refetch, in ms. Default 600000 (10 minutes). */
  jwksCacheMaxAgeMs?: number;
  /** Timeout of a JWKS fetch, in ms. Default 5000. */
  jwksTimeoutMs?: number;
}

const HMAC = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
export const JWT_DEFAULTS = Object.freeze({
  clockToleranceSeconds: 30,
  jwksCacheMaxAgeMs: 600_000,
  jwksTimeoutMs: 5_000,
});

/** Why a token was refused; `description` is safe to send to the client. */
export class TokenRejected extends Error {
  constructor(
    readonly reason:
      | 'expired'
      | 'not-yet-valid'
      | 'wrong-audience'
      | 'wrong-issuer'
      | 'bad-signature'
      | 'bad-algorithm'
      | 'malformed'
      | 'no-subject'
      | 'unknown-key'
      | 'key-source-unavailable',
    readonly description: string,
  ) {
    super(description);
  }
}

function fail(name: string, expected: string, received: string): never {
  throw new RemoteMcpOptionError(`remote-mcp: option \`auth.jwt.${name}\` must be ${expected}; received ${received}.`);
}

function stringOrList(value: unknown, name: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((entry) => typeof entry !== 'string' || entry.length === 0)
  ) {
    fail(name, 'a non-empty string or array of non-empty strings', JSON.stringify(value) ?? 'undefined');
  }
  return list as string[];
}

export class JwtVerifier {
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly issuer: string[];
  private readonly audience: string[];
  private readonly clockTolerance: number;

  constructor(options: JwtOptions) {
    if (options === null || typeof options !== 'object') fail('', 'an object', String(options));
    const sources = (['secret', 'publicKey', 'jwksUrl'] as const).filter((name) => options[name] !== undefined);
    if (sources.length !== 1)
      fail('secret|publicKey|jwksUrl', 'exactly one key source', sources.length === 0 ? 'none' : sources.join(' and '));
    this.issuer = stringOrList(options.issuer, 'issuer');
    this.audience = stringOrList(options.audience, 'audience');
    this.clockTolerance = options.clockToleranceSeconds ?? JWT_DEFAULTS.clockToleranceSeconds;
    if (!Number.isSafeInteger(this.clockTolerance) || this.clockTolerance < 0 || this.clockTolerance > 300)
      fail('clockToleranceSeconds', 'an integer from 0 to 300', String(this.clockTolerance));
    const allowed = options.secret !== undefined ? HMAC : ASYMMETRIC;
    this.algorithms = options.algorithms ?? allowed;
    for (const alg of this.algorithms) {
      if (!allowed.includes(alg))
        fail('algorithms', `a subset of ${allowed.join(', ')} for this key source`, JSON.stringify(alg));
    }
    if (options.secret !== undefined) {
      if (typeof options.secret !== 'string' || Buffer.byteLength(options.secret) < 32)
        fail(
          'secret',
          'a string of at least 32 bytes',
          typeof options.secret === 'string' ? `${Buffer.byteLength(options.secret)} bytes` : typeof options.secret,
        );
      this.key = new TextEncoder().encode(options.secret);
    } else if (options.publicKey !== undefined) {
      let key: KeyObject;
      try {
        key = createPublicKey(options.publicKey);
      } catch {
        fail('publicKey', 'a PEM public key', 'text that is not one');
      }
      this.key = key;
    } else {
      let url: URL;
      try {
        url = new URL(options.jwksUrl!);
      } catch {
        fail('jwksUrl', 'an http(s) URL', JSON.stringify(options.jwksUrl));
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:')
        fail('jwksUrl', 'an http(s) URL', JSON.stringify(options.jwksUrl));
      this.key = createRemoteJWKSet(url, {
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? JWT_DEFAULTS.jwksCacheMaxAgeMs,
        timeoutDuration: options.jwksTimeoutMs ?? JWT_DEFAULTS.jwksTimeoutMs,
        cooldownDuration: 30_000,
      });
    }
  }

  /** The issuers tokens may come from (the default authorization servers of the resource metadata). */
  get issuers(): string[] {
    return this.issuer;
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const options = {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: this.algorithms,
        clockTolerance: this.clockTolerance,
        requiredClaims: ['exp'],
      };
      payload =
        typeof this.key === 'function'
          ? (await jwtVerify(token, this.key, options)).payload
          : (await jwtVerify(token, this.key, options)).payload;
    } catch (error) {
      // With a JWKS, a failure that is not jose's own verdict (connection refused, DNS) means the keys are out of reach.
      if (typeof this.key === 'function' && !(error instanceof errors.JOSEError))
        throw new TokenRejected('key-source-unavailable', 'The signing keys could not be fetched');
      throw rejection(error);
    }
    // jose checks iat only against maxTokenAge; a token issued in the future is as suspect as one not valid yet.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + this.clockTolerance)
      throw new TokenRejected('not-yet-valid', 'The token was issued in the future (iat)');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0)
      throw new TokenRejected('no-subject', 'The token has no subject (sub)');
    const clientId =
      typeof payload.client_id === 'string'
        ? payload.client_id
        : typeof payload.azp === 'string'
          ? payload.azp
          : undefined;
    return {
      kind: 'jwt',
      subject: payload.sub,
      scopes: scopesOf(payload),
      issuer: payload.iss,
      ...(typeof payload.jti === 'string' && { credentialId: payload.jti }),
      ...(typeof payload.exp === 'number' && { expiresAt: payload.exp }),
      ...(clientId !== undefined && { clientId }),
    };
  }
}

/** Scopes from `scope` (RFC 8693/9068: space-separated) or `scp` (array or string, as some issuers send). */
function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter((scope) => scope.length > 0);
  if (Array.isArray(raw)) return raw.filter((scope): scope is string => typeof scope === 'string');
  return [];
}

function rejection(error: unknown): TokenRejected {
  if (error instanceof errors.JWTExpired) return new TokenRejected('expired', 'The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return new TokenRejected('wrong-audience', 'The token was not issued for this server (aud)');
    if (error.claim === 'iss')
      return new TokenRejected('wrong-issuer', 'The token was issued by an issuer this server does not trust (iss)');
    if (error.claim === 'nbf' || error.claim === 'iat')
      return new TokenRejected('not-yet-valid', 'The token is not valid yet');
    return new TokenRejected('malformed', `The token's ${error.claim} claim is missing or invalid`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return new TokenRejected('bad-algorithm', 'The token is signed with an algorithm this server does not accept');
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new TokenRejected('bad-signature', 'The token signature is invalid');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return new TokenRejected('unknown-key', 'The token is signed with a key this server does not know');
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    (error instanceof Error && (error as { code?: string }).code === 'ERR_JOSE_GENERIC')
  ) {
    return new TokenRejected('key-source-unavailable', 'The signing keys could not be fetched');
  }
  return new TokenRejected('malformed', 'The token is not a valid JWT');
}
