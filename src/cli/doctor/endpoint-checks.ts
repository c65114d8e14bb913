/**
 * The HTTP status of the endpoint (what a 2026-07-28 `server/discover` POST gets back, read as an operator
 * would: a redirect, a proxy error, a refused Host) and the `/health` and `/ready` probes at the URL's origin.
 */
import {
  type Check,
  credentialHeaders,
  type DoctorContext,
  fail,
  note,
  type Outcome,
  pass,
  unreachable,
} from './check.js';
import {
  answerTo,
  describeProbeError,
  type ProbeResponse,
  probe,
  refusalMessage,
  rpcMessages,
  statusAndMessage,
  statusText,
} from './http-probe.js';
import { discover } from './mcp-requests.js';

/** A URL path that names an HTTP+SSE stream rather than a Streamable HTTP endpoint. */
export const SSE_PATH = /\/(sse|events)\/?$/;

/** What to do when a probe got no HTTP answer at all. */
export function noAnswer(context: DoctorContext, error: unknown, signal: AbortSignal): Outcome {
  const what = describeProbeError(error, signal, context.options.timeoutMs);
  const target = context.target!;
  if (signal.aborted)
    return fail(
      what,
      'the server accepted the connection but did not answer: it may be overloaded or stuck, or a proxy in front waits on a backend that is down',
    );
  if (what.startsWith('the answer is not HTTP'))
    return fail(what, `the port may expect TLS: try ${target.scheme === 'ws' ? 'wss' : 'https'}:// instead`);
  if (what.startsWith('the server closed'))
    return fail(
      what,
      'the server or a proxy in front of it drops the request: check their logs (a TLS port reached with http:// does this too)',
    );
  return fail(what, 'check that the URL names the MCP server and that it runs');
}

const retryAfter = (response: ProbeResponse) =>
  response.headers['retry-after'] === undefined ? '' : ` (Retry-After: ${String(response.headers['retry-after'])})`;

/** Reads the endpoint's answer to server/discover; sets `endpointAnswers` when it answered like an MCP endpoint. */
function judgeEndpoint(context: DoctorContext, response: ProbeResponse): Outcome {
  const target = context.target!;
  const status = statusText(response);
  const type = String(response.headers['content-type'] ?? 'no content type').split(';')[0];
  const message = refusalMessage(response);
  const said = message === undefined ? '' : `: ${message}`;
  const full = statusAndMessage(response);
  const answer = answerTo(response, 'doctor-discover');
  const sseUrl = SSE_PATH.test(target.http.pathname);
  if (response.status >= 200 && response.status < 300) {
    if (answer === undefined)
      return fail(
        `${status} ${type}, but the answer is not JSON-RPC: this is not an MCP endpoint`,
        'this URL serves something else: give the URL of the MCP endpoint (remote-mcp serves /mcp; its start line prints the URL)',
      );
    context.endpointAnswers = true;
    return pass(
      answer.error === undefined
        ? `${status} ${type}: server/discover answered`
        : `${status} ${type}: a JSON-RPC error to server/discover${said}`,
    );
  }
  if (response.status === 401 || (response.status === 403 && response.headers['www-authenticate'] !== undefined)) {
    context.endpointAnswers = true;
    return pass(`${status}: authentication required (see authentication)`);
  }
  if (response.status >= 300 && response.status < 400) {
    const location = String(response.headers.location ?? 'nowhere');
    return fail(
      `${status}: redirects to ${location}`,
      `use the URL it redirects to (${location}) directly: MCP clients do not follow redirects of their POSTs`,
    );
  }
  if ((response.status === 404 || response.status === 405) && sseUrl) {
    context.endpointAnswers = true;
    return note(`${status} to POST: this looks like an HTTP+SSE URL (see HTTP+SSE)`);
  }
  if (response.status === 403 && /Host is not allowed/i.test(message ?? ''))
    return fail(
      `${full}`,
      `the server's DNS-rebinding protection refuses the Host ${target.http.host}: add it to the allowed hosts (remote-mcp: allowedHosts, serve --allowed-hosts ${target.host})`,
    );
  if (response.status === 400 && message !== undefined) {
    context.endpointAnswers = true;
    return pass(`${full} (the endpoint speaks JSON-RPC; see the protocol lines)`);
  }
  switch (response.status) {
    case 404:
      return fail(
        `${status} at ${target.http.pathname}`,
        'there is no MCP endpoint at this path: check the path (remote-mcp serves /mcp unless told otherwise, and prints its URL at start)',
      );
    case 405:
      return fail(
        `${status}: this URL does not take POST`,
        'give the Streamable HTTP endpoint (…/mcp); for a 2024-11-05 HTTP+SSE server, give its stream URL (…/sse)',
      );
    case 403:
      return fail(
        `${full}`,
        'the server or a proxy in front refuses this client: check their access rules (IP allowlists, firewall rules)',
      );
    case 406:
    case 415:
      return fail(
        `${full}`,
        'the server refuses a standard MCP POST (JSON body, Accept: application/json, text/event-stream): it is not an MCP endpoint, or a proxy rewrites headers',
      );
    case 429:
      return fail(
        `${full}${retryAfter(response)}`,
        'a rate limit is reached: wait as long as Retry-After says, or ask for a higher limit',
      );
    case 502:
      return fail(
        `${status}: the proxy in front cannot reach the MCP server`,
        'check that the server behind the proxy runs, and the proxy’s upstream address and port',
      );
    case 503:
      return fail(
        `${full}${retryAfter(response)}`,
        'the server is starting, shutting down or overloaded (or its shared state store is down): check /ready and its logs',
      );
    case 504:
      return fail(
        `${status}: the proxy timed out waiting for the MCP server`,
        'the server is slow or unreachable from the proxy: check it, and the proxy’s read timeout',
      );
    default:
      return fail(
        `${full}`,
        response.status >= 500
          ? 'the server failed on a well-formed request: check its logs'
          : 'the endpoint refuses a well-formed MCP request: check the URL and the server’s logs',
      );
  }
}

export const httpCheck: Check = {
  name: 'http',
  label: 'HTTP status',
  skipIf: unreachable,
  async run(context, signal) {
    try {
      return judgeEndpoint(context, await discover(context, credentialHeaders(context.options), signal));
    } catch (error) {
      return noAnswer(context, error, signal);
    }
  },
};

/** The failing checks a health or readiness body lists, by name. */
function failingChecks(body: Record<string, unknown>): string[] {
  const checks = Array.isArray(body.checks) ? (body.checks as Array<Record<string, unknown>>) : [];
  return checks
    .filter((check) => check.status === 'failed')
    .map((check) => `${String(check.name)}${typeof check.error === 'string' ? ` (${check.error})` : ''}`);
}

function probeCheck(name: 'health' | 'ready', path: string): Check {
  return {
    name,
    label: path,
    skipIf: unreachable,
    async run(context, signal) {
      let response: ProbeResponse;
      try {
        response = await probe(context, {
          url: new URL(path, context.target!.http.origin),
          method: 'GET',
          headers: { accept: 'application/json', ...credentialHeaders(context.options) },
          signal,
        });
      } catch (error) {
        return noAnswer(context, error, signal);
      }
      const status = statusText(response);
      if (response.status === 404)
        return note(
          `not served (${status})`,
          `load balancers and orchestrators need a ${name === 'health' ? 'liveness' : 'readiness'} probe: remote-mcp serves ${path} unless health is turned off`,
        );
      if (response.status === 401 || response.status === 403)
        return note(
          `needs a credential (${status})`,
          'give --token or --api-key, or let probes through unauthenticated (remote-mcp: health.requireAuth false)',
        );
      let body: Record<string, unknown> | undefined;
      try {
        const parsed = JSON.parse(response.body) as unknown;
        if (parsed !== null && typeof parsed === 'object' && rpcMessages(response).length === 0)
          body = parsed as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      const state = typeof body?.status === 'string' ? `, status ${body.status}` : '';
      const failing = body === undefined ? [] : failingChecks(body);
      const checks = failing.length === 0 ? '' : `; failing: ${failing.join(', ')}`;
      if (response.status === 200 && body?.status === 'degraded')
        return note(
          `${status}${state}${checks}`,
          'the process lives but a required dependency (a state store) fails, so /ready answers 503: fix it',
        );
      if (response.status === 200) return pass(`${status}${state}${checks}`);
      if (response.status === 503) {
        const fix =
          body?.status === 'draining'
            ? 'the instance is shutting down: a load balancer should stop sending it traffic; start another'
            : body?.status === 'starting'
              ? 'the instance is still starting: wait, then check again'
              : failing.length > 0
                ? `fix what the failing checks report (${failing.join(', ')}); the server's logs say more`
                : 'the server reports itself unavailable: check its logs';
        return fail(`${status}${state}${checks}`, fix);
      }
      if (body === undefined) return note(`answered ${status}, not a health probe`);
      return fail(`${status}${state}${checks}`, 'the probe answers neither 200 nor 503: check the server’s logs');
    },
  };
}

export const healthCheck = probeCheck('health', '/health');
export const readyCheck = probeCheck('ready', '/ready');
