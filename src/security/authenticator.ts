/**
 * Authentication, configured once and applied to every transport: each HTTP request and each WebSocket upgrade
 * is mapped to a principal, or refused with a 401 whose WWW-Authenticate tells an honest client how to
 * authenticate (RFC 9728 `resource_metadata`, the scopes needed). Methods, in order:
 *   - `Authorization: Bearer <jwt>` verified by JwtVerifier (when `jwt` is configured);
 *   - `Authorization: ApiKey <key>` or `X-API-Key: <key>` against the keys file (when `apiKeys` is configured);
 *   - the `authenticate(req)` hook, consulted when no built-in method's credential was presented.
 * Credentials in the query string are refused outright (they end up in logs and browser history).
 */
import type { IncomingMessage } from 'node:http';

import { failOption, RemoteMcpOptionError, type ErrorName } from '../errors.js';
import { API_KEY_DEFAULTS, ApiKeyVerifier } from './api-keys.js';
import { JwtVerifier, TokenRejected, type JwtOptions } from './jwt-verifier.js';
import { isValidHost } from './origin-guard.js';
import type { Principal } from './principal.js';

export interface AuthOptions {
  /** Bearer JWTs. */
  jwt?: JwtOptions;
  /**
   * API keys: the keys file written by `remote-mcp keys create`, checked for changes every `reloadIntervalMs`
   * (default 1000); a revoked key's requests are refused and what it opened is ended within that interval.
   */
  apiKeys?: { file: string; reloadIntervalMs?: number };
  /**
   * Your own method: return a principal to accept the request, undefined to refuse it (401), or throw
   * AuthenticationError with a reason. Consulted when the request carries no credential of a built-in method.
   */
  authenticate?: (req: IncomingMessage) => Principal | undefined | Promise<Principal | undefined>;
  /** OAuth 2.0 Protected Resource Metadata (RFC 9728) served at /.well-known/oauth-protected-resource[<path>]. */
  resourceMetadata?: {
    /** This server's canonical URI (RFC 8707), e.g. https://mcp.example.com/mcp. Default: from the request's Host. */
    resource?: string;
    /** Authorization servers that issue tokens for this server. Default: the JWT issuers that are URLs. */
    authorizationServers?: string[];
    /** Scopes clients may request. Default: requiredScopes plus the scopes the authorization policy names. */
    scopesSupported?: string[];
    /** A human-readable name for the resource. */
    resourceName?: string;
  };
  /** Scopes every request needs; advertised in the 401 challenge. Default none. */
  requiredScopes?: string[];
}

/** Thrown by an `authenticate` hook to refuse a request with a reason the client may see. */
export class AuthenticationError extends Error {}

export interface AuthRefusal {
  name: Extract<
    ErrorName,
    'AUTH_REQUIRED' | 'AUTH_INVALID' | 'AUTH_QUERY_CREDENTIAL' | 'AUTH_UNAVAILABLE' | 'AUTH_INSUFFICIENT_SCOPE'
  >;
  /** A short machine reason for logs and metrics: missing, expired, wrong-audience, revoked-or-unknown-key... */
  reason: string;
  message?: string;
  headers: Record<string, string | string[]>;
}

export type AuthOutcome =
  | { principal: Principal; refusal?: undefined }
  | { principal?: undefined; refusal: AuthRefusal };

const QUERY_CREDENTIALS = ['access_token', 'api_key', 'apikey', 'api-key', 'token', 'key'];
const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export class Authenticator {
  private readonly jwt: JwtVerifier | undefined;
  /** The keys file's verifier; its revocations end what the keys opened (src/security/credential-watch.ts). */
  readonly apiKeys: ApiKeyVerifier | undefined;
  private readonly hook: AuthOptions['authenticate'];
  readonly requiredScopes: string[];
  private readonly metadata: AuthOptions['resourceMetadata'];
  private readonly authorizationServers: string[];

  constructor(
    options: AuthOptions,
    private readonly path: string,
    onError: (error: Error) => void,
    private readonly policyScopes: () => string[] = () => [],
  ) {
    if (options === null || typeof options !== 'object')
      throw new RemoteMcpOptionError(`remote-mcp: option \`auth\` must be an object; received ${String(options)}.`);
    if (options.jwt === undefined && options.apiKeys === undefined && options.authenticate === undefined) {
      throw new RemoteMcpOptionError(
        'remote-mcp: option `auth` must configure at least one of jwt, apiKeys, authenticate; received none.',
      );
    }
    this.jwt = options.jwt === undefined ? undefined : new JwtVerifier(options.jwt);
    if (
      options.apiKeys !== undefined &&
      (typeof options.apiKeys?.file !== 'string' || options.apiKeys.file.length === 0)
    ) {
      throw new RemoteMcpOptionError(
        `remote-mcp: option \`auth.apiKeys.file\` must be a file path; received ${JSON.stringify(options.apiKeys?.file)}.`,
      );
    }
    const reloadIntervalMs = options.apiKeys?.reloadIntervalMs ?? API_KEY_DEFAULTS.reloadIntervalMs;
    if (!Number.isSafeInteger(reloadIntervalMs) || reloadIntervalMs < 10 || reloadIntervalMs > 3_600_000)
      failOption('auth.apiKeys.reloadIntervalMs', 'an integer from 10 to 3600000', reloadIntervalMs);
    this.apiKeys =
      options.apiKeys === undefined ? undefined : new ApiKeyVerifier(options.apiKeys.file, onError, reloadIntervalMs);
    if (options.authenticate !== undefined && typeof options.authenticate !== 'function')
      throw new RemoteMcpOptionError(
        'remote-mcp: option `auth.authenticate` must be a function; received something else.',
      );
    this.hook = options.authenticate;
    this.requiredScopes = options.requiredScopes ?? [];
    this.metadata = options.resourceMetadata;
    this.authorizationServers =
      options.resourceMetadata?.authorizationServers ??
      this.jwt?.issuers.filter((issuer) => /^https?:\/\//.test(issuer)) ??
      [];
  }

  async authenticate(req: IncomingMessage): Promise<AuthOutcome> {
    const query = (req.url ?? '').split('?')[1];
    if (query !== undefined) {
      const params = new URLSearchParams(query);
      if (QUERY_CREDENTIALS.some((name) => params.has(name))) {
        return this.refuse(req, 'AUTH_QUERY_CREDENTIAL', 'credential-in-query', {
          error: 'invalid_request',
          quiet: true,
        });
      }
    }
    const authorization = req.headers.authorization;
    const apiKeyHeader = req.headers['x-api-key'];
    if (authorization !== undefined) {
      const space = authorization.indexOf(' ');
      const scheme = (space === -1 ? authorization : authorization.slice(0, space)).toLowerCase();
      const credential = space === -1 ? '' : authorization.slice(space + 1).trim();
      if (scheme === 'bearer' && this.jwt !== undefined) return this.bearer(req, credential);
      if (scheme === 'apikey' && this.apiKeys !== undefined) return this.apiKey(req, credential);
    } else if (typeof apiKeyHeader === 'string' && this.apiKeys !== undefined) {
      return this.apiKey(req, apiKeyHeader.trim());
    }
    if (this.hook !== undefined) {
      try {
        const principal = await this.hook(req);
        if (principal !== undefined) return { principal };
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        return this.refuse(req, 'AUTH_INVALID', 'rejected-by-hook', {
          error: 'invalid_token',
          description: error.message,
        });
      }
    }
    return authorization === undefined && apiKeyHeader === undefined
      ? this.refuse(req, 'AUTH_REQUIRED', 'missing')
      : this.refuse(req, 'AUTH_INVALID', 'unsupported-scheme', {
          error: 'invalid_request',
          description: 'The credential uses an authentication scheme this server does not accept',
        });
  }

  /** The requiredScopes the principal lacks, as a 403 insufficient_scope refusal; undefined when it has them all. */
  checkRequiredScopes(req: IncomingMessage, principal: Principal): AuthRefusal | undefined {
    const missing = this.requiredScopes.filter((scope) => !principal.scopes.includes(scope));
    return missing.length === 0 ? undefined : this.insufficientScope(req, this.requiredScopes);
  }

  /** A 403 naming every scope the operation needs (the spec: all of them in one challenge). */
  insufficientScope(req: IncomingMessage | undefined, scopes: string[]): AuthRefusal {
    const challenge = this.bearerChallenge(
      req,
      scopes,
      'insufficient_scope',
      'The credential lacks a scope this operation needs',
    );
    return {
      name: 'AUTH_INSUFFICIENT_SCOPE',
      reason: 'insufficient-scope',
      message: `Forbidden: insufficient scope (this operation needs ${scopes.join(', ')})`,
      headers: { 'www-authenticate': challenge },
    };
  }

  /** The Protected Resource Metadata document, or undefined when no authorization server is known. */
  resourceMetadata(req: IncomingMessage): Record<string, unknown> | undefined {
    if (this.authorizationServers.length === 0) return undefined;
    const scopes = this.metadata?.scopesSupported ?? [...new Set([...this.requiredScopes, ...this.policyScopes()])];
    return {
      resource: this.resource(req),
      authorization_servers: this.authorizationServers,
      ...(scopes.length > 0 && { scopes_supported: scopes }),
      bearer_methods_supported: ['header'],
      ...(this.metadata?.resourceName !== undefined && { resource_name: this.metadata.resourceName }),
    };
  }

  /** Whether a request path is one of the metadata document's URLs. */
  isMetadataPath(path: string): boolean {
    return path === WELL_KNOWN || path === `${WELL_KNOWN}${this.path}`;
  }

  private async bearer(req: IncomingMessage, token: string): Promise<AuthOutcome> {
    try {
      return { principal: await this.jwt!.verify(token) };
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      if (error.reason === 'key-source-unavailable')
        return { refusal: { name: 'AUTH_UNAVAILABLE', reason: error.reason, headers: { 'retry-after': '5' } } };
      return this.refuse(req, 'AUTH_INVALID', error.reason, {
        error: 'invalid_token',
        description: error.description,
        scheme: 'bearer',
      });
    }
  }

  private apiKey(req: IncomingMessage, key: string): AuthOutcome {
    const principal = this.apiKeys!.verify(key);
    return principal !== undefined
      ? { principal }
      : this.refuse(req, 'AUTH_INVALID', 'unknown-or-revoked-key', {
          error: 'invalid_token',
          description: 'The API key is unknown or revoked',
          scheme: 'apikey',
        });
  }

  /**
   * A 401/400 with one challenge per accepted scheme; the error attributes go on the scheme of the credential
   * that failed (`scheme`), or on every challenge when the failure is not tied to one.
   */
  private refuse(
    req: IncomingMessage,
    name: AuthRefusal['name'],
    reason: string,
    detail: { error?: string; description?: string; scheme?: 'bearer' | 'apikey'; quiet?: boolean } = {},
  ): AuthOutcome {
    const on = (scheme: 'bearer' | 'apikey') => detail.scheme === undefined || detail.scheme === scheme;
    const challenges: string[] = [];
    if (this.jwt !== undefined || this.authorizationServers.length > 0 || this.apiKeys === undefined) {
      challenges.push(
        on('bearer')
          ? this.bearerChallenge(req, this.requiredScopes, detail.error, detail.description)
          : this.bearerChallenge(req, this.requiredScopes),
      );
    }
    if (this.apiKeys !== undefined)
      challenges.push(
        `ApiKey realm="mcp"${detail.error !== undefined && on('apikey') ? `, error="${detail.error}"` : ''}`,
      );
    const message =
      detail.description !== undefined && detail.quiet !== true ? `Unauthorized: ${detail.description}` : undefined;
    return {
      refusal: { name, reason, ...(message !== undefined && { message }), headers: { 'www-authenticate': challenges } },
    };
  }

  private bearerChallenge(
    req: IncomingMessage | undefined,
    scopes: string[],
    error?: string,
    description?: string,
  ): string {
    const parts: string[] = [];
    if (req !== undefined && this.authorizationServers.length > 0)
      parts.push(`resource_metadata="${this.metadataUrl(req)}"`);
    if (scopes.length > 0) parts.push(`scope="${scopes.join(' ')}"`);
    if (error !== undefined) parts.push(`error="${error}"`);
    if (description !== undefined) parts.push(`error_description="${description.replace(/["\\]/g, '')}"`);
    return parts.length === 0 ? 'Bearer realm="mcp"' : `Bearer ${parts.join(', ')}`;
  }

  private origin(req: IncomingMessage): string {
    const configured = this.metadata?.resource;
    if (configured !== undefined) return new URL(configured).origin;
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
    // The Host check refuses a malformed Host before authentication; this keeps one from ever reaching a URL.
    const host = req.headers.host;
    return `${encrypted ? 'https' : 'http'}://${isValidHost(host) ? host : 'localhost'}`;
  }

  private resource(req: IncomingMessage): string {
    return this.metadata?.resource ?? `${this.origin(req)}${this.path}`;
  }

  private metadataUrl(req: IncomingMessage): string {
    return `${this.origin(req)}${WELL_KNOWN}${this.path}`;
  }
}
