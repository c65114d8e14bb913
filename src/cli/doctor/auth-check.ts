/**
 * Authentication: what the endpoint asks of a client that sends no credential (a 401 and its WWW-Authenticate
 * challenges), the OAuth protected-resource metadata (RFC 9728) the Bearer challenge points to and the
 * authorization servers it lists, and whether the credential given (--token, --api-key, a credential-looking
 * --header) is accepted.
 */
import type { IncomingHttpHeaders } from 'node:http';

import {
  anonymousHeaders,
  type Check,
  credentialHeaders,
  type DoctorContext,
  ENDPOINT_SILENT,
  fail,
  hasCredential,
  type Outcome,
  pass,
  unreachable,
} from './check.js';
import { noAnswer, SSE_PATH } from './endpoint-checks.js';
import { headerValues, probe, probeStream, refusalReason, statusText } from './http-probe.js';
import { discover } from './mcp-requests.js';
import { type Challenge, formatChallenge, parseWwwAuthenticate } from './www-authenticate.js';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

interface Metadata {
  url: string;
  /** What the document says, for the report. */
  summary: string;
  authorizationServers: string[];
  scopes: string[];
  /** What is wrong with it, if anything (then `fix` says what to do). */
  problem?: string;
  fix?: string;
}

/** What the authentication check reads of an answer. */
interface Answer {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/**
 * The request a client starts with: a `server/discover` POST, or for an HTTP+SSE URL the GET that opens the
 * stream (read until its first event, then dropped).
 */
function endpointRequest(
  context: DoctorContext,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<Answer> {
  const url = context.target!.http;
  if (!SSE_PATH.test(url.pathname)) return discover(context, headers, signal);
  return probeStream(
    context,
    { url, method: 'GET', headers: { accept: 'text/event-stream', ...headers }, signal },
    () => true,
  );
}

const challengesOf = (response: Answer) => parseWwwAuthenticate(headerValues(response.rawHeaders, 'www-authenticate'));

const isBearer = (challenge: Challenge) => challenge.scheme.toLowerCase() === 'bearer';

/** Where the metadata should be: the challenge's resource_metadata, else the RFC 9728 well-known URLs. */
function metadataUrls(context: DoctorContext, challenges: Challenge[]): string[] {
  const pointed = challenges.find((challenge) => isBearer(challenge) && challenge.params.resource_metadata);
  if (pointed !== undefined) return [pointed.params.resource_metadata!];
  const { origin, pathname } = context.target!.http;
  return [
    ...(pathname !== '/' ? [`${origin}${WELL_KNOWN}${pathname.replace(/\/$/, '')}`] : []),
    `${origin}${WELL_KNOWN}`,
  ];
}

/** The resource a client must name: the endpoint URL without query or fragment (RFC 8707). */
function canonical(url: URL): string {
  return `${url.origin}${url.pathname}`.replace(/\/$/, '');
}

/** Fetches and reads the protected-resource metadata; undefined when none is served where it should be. */
async function readMetadata(
  context: DoctorContext,
  challenges: Challenge[],
  signal: AbortSignal,
): Promise<Metadata | undefined> {
  const pointed = challenges.some((challenge) => isBearer(challenge) && challenge.params.resource_metadata);
  for (const url of metadataUrls(context, challenges)) {
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(url);
    } catch {
      return {
        url,
        summary: '',
        authorizationServers: [],
        scopes: [],
        problem: `resource_metadata "${url}" is not a URL`,
        fix: 'make the challenge’s resource_metadata an absolute https URL',
      };
    }
    const response = await probe(context, {
      url: parsedUrl,
      method: 'GET',
      headers: { accept: 'application/json' },
      signal,
    });
    if (response.status === 404 && !pointed) continue;
    if (response.status !== 200)
      return {
        url,
        summary: '',
        authorizationServers: [],
        scopes: [],
        problem: `the resource metadata at ${url} answered ${statusText(response)}`,
        fix: 'serve the protected-resource metadata document there (RFC 9728), without requiring a credential',
      };
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(response.body) as Record<string, unknown>;
      if (document === null || typeof document !== 'object') throw new Error('not an object');
    } catch {
      return {
        url,
        summary: '',
        authorizationServers: [],
        scopes: [],
        problem: `the resource metadata at ${url} is not a JSON object`,
        fix: 'serve it as a JSON object (RFC 9728 §3.2)',
      };
    }
    const servers = Array.isArray(document.authorization_servers)
      ? document.authorization_servers.filter((server): server is string => typeof server === 'string')
      : [];
    const scopes = Array.isArray(document.scopes_supported)
      ? document.scopes_supported.filter((scope): scope is string => typeof scope === 'string')
      : [];
    const resource = typeof document.resource === 'string' ? document.resource : undefined;
    const summary =
      `resource ${resource ?? '(none)'}, authorization servers ${servers.join(', ') || '(none)'}` +
      (scopes.length > 0 ? `, scopes ${scopes.join(' ')}` : '');
    const expected = canonical(context.target!.http);
    let problem: string | undefined;
    let fix: string | undefined;
    if (servers.length === 0) {
      problem = 'the metadata lists no authorization servers';
      fix =
        'list the servers that issue tokens in authorization_servers (remote-mcp: a JWT issuer that is a URL, or auth.resourceMetadata.authorizationServers)';
    } else if (resource === undefined || resource.replace(/\/$/, '') !== expected) {
      problem = `the metadata names the resource ${resource ?? '(none)'}, not ${expected}: OAuth clients refuse it`;
      fix = `make resource the URL clients use, ${expected} (remote-mcp: auth.resourceMetadata.resource)`;
    }
    return {
      url,
      summary,
      authorizationServers: servers,
      scopes,
      ...(problem !== undefined && { problem, fix }),
    };
  }
  return undefined;
}

/** What to do about a refused credential, from the reason the refusal gives. */
function refusalFix(reason: string, accepted: string[]): string {
  const schemes = `the server accepts ${accepted.join(', ') || 'an unknown scheme'}`;
  if (/expired/i.test(reason)) return 'the token has expired: get a new one';
  if (/audience/i.test(reason)) return 'the token was issued for another resource: request one for this server’s URL';
  if (/API key/i.test(reason))
    return 'the API key is unknown or revoked: check it (remote-mcp keys list) or create one (remote-mcp keys create)';
  if (/scheme/i.test(reason)) return `${schemes}: --token sends Authorization: Bearer, --api-key sends X-API-Key`;
  return `check the credential’s value; ${schemes} (--token sends Authorization: Bearer, --api-key sends X-API-Key)`;
}

export const authCheck: Check = {
  name: 'auth',
  label: 'authentication',
  skipIf: (context) => unreachable(context) ?? (context.endpointAnswers !== true ? ENDPOINT_SILENT : undefined),
  async run(context, signal): Promise<Outcome> {
    const given = hasCredential(context.options);
    let anonymous: Answer;
    try {
      anonymous = await endpointRequest(context, anonymousHeaders(context.options), signal);
    } catch (error) {
      return noAnswer(context, error, signal);
    }
    const challenged =
      anonymous.status === 401 || (anonymous.status === 403 && anonymous.headers['www-authenticate'] !== undefined);
    if (!challenged) {
      context.auth = 'none';
      return pass(
        `not required: the endpoint answers ${statusText(anonymous)} without a credential${given ? ' (the credential given was not needed)' : ''}`,
      );
    }
    const challenges = challengesOf(anonymous);
    const schemes = [...new Set(challenges.map((challenge) => challenge.scheme))];
    let metadata: Metadata | undefined;
    try {
      metadata = challenges.some(isBearer) ? await readMetadata(context, challenges, signal) : undefined;
    } catch (error) {
      return noAnswer(context, error, signal);
    }
    const challengeText =
      challenges.length === 0 ? 'no WWW-Authenticate challenge' : challenges.map(formatChallenge).join('; ');
    const metadataText =
      metadata === undefined
        ? challenges.some(isBearer)
          ? '; no resource metadata'
          : ''
        : `; resource metadata ${metadata.url}${metadata.summary === '' ? '' : `: ${metadata.summary}`}`;
    const summary = `${statusText(anonymous)} with ${challengeText}${metadataText}`;
    const metadataProblem =
      metadata?.problem !== undefined
        ? { problem: metadata.problem, fix: metadata.fix! }
        : challenges.some(isBearer) && metadata === undefined
          ? {
              problem: 'no protected-resource metadata is served',
              fix: 'serve /.well-known/oauth-protected-resource (RFC 9728) so OAuth clients find the authorization server (remote-mcp: a JWT issuer that is a URL, or auth.resourceMetadata.authorizationServers)',
            }
          : undefined;
    if (challenges.length === 0)
      return fail(
        summary,
        'a 401 must say how to authenticate: send WWW-Authenticate (Bearer resource_metadata="…" for OAuth clients)',
      );
    if (!given) {
      context.auth = 'missing';
      const servers = metadata?.authorizationServers ?? [];
      const scopes = metadata?.scopes ?? [];
      const ways = [
        ...(challenges.some(isBearer)
          ? [
              `get a token${servers.length > 0 ? ` from ${servers.join(' or ')}` : ''}${scopes.length > 0 ? ` with scope ${scopes.join(' ')}` : ''} and pass --token <token>`,
            ]
          : []),
        ...(schemes.some((scheme) => scheme.toLowerCase() === 'apikey')
          ? ['pass an API key with --api-key <key>']
          : []),
      ];
      return fail(
        `a credential is required: ${summary}${metadataProblem === undefined ? '' : `; ${metadataProblem.problem}`}`,
        `${ways.join(', or ') || `authenticate with ${schemes.join(' or ')} (--header 'authorization: …')`}${metadataProblem === undefined ? '' : `; ${metadataProblem.fix}`}`,
      );
    }
    let authenticated: Answer;
    try {
      authenticated = await endpointRequest(context, credentialHeaders(context.options), signal);
    } catch (error) {
      return noAnswer(context, error, signal);
    }
    if (authenticated.status === 401 || authenticated.status === 403) {
      context.auth = 'refused';
      const refusal = challengesOf(authenticated);
      // The most specific reason first: a challenge's error_description, the body's message, the error code.
      const why =
        refusal.map((challenge) => challenge.params.error_description).find(Boolean) ??
        refusalReason(authenticated) ??
        refusal.map((challenge) => challenge.params.error).find(Boolean) ??
        'no reason given';
      const scope = refusal.find((challenge) => challenge.params.error === 'insufficient_scope')?.params.scope;
      if (scope !== undefined)
        return fail(
          `the credential is accepted but lacks a scope (${statusText(authenticated)}): needs ${scope}`,
          `get a credential with the scopes ${scope}`,
        );
      return fail(
        `the credential is refused (${statusText(authenticated)}: ${why}); without one: ${summary}`,
        refusalFix(why, schemes),
      );
    }
    context.auth = 'accepted';
    if (metadataProblem !== undefined)
      return fail(
        `the credential is accepted (${statusText(authenticated)}), but ${metadataProblem.problem}; without one: ${summary}`,
        metadataProblem.fix,
      );
    return pass(`the credential is accepted (${statusText(authenticated)}); without one: ${summary}`);
  },
};
