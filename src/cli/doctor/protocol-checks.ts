/**
 * Which protocols answer over HTTP: 2026-07-28 (`server/discover`), a 2025-era session (initialize, then DELETE
 * of the session it made), and the 2024-11-05 HTTP+SSE transport (a GET stream whose first event names the
 * POST endpoint). A protocol the server does not speak is a note, not a failure (servers choose what to
 * serve), unless the URL itself names it; one that answers wrongly fails.
 */
import { type Check, credentialHeaders, endpointUnavailable, fail, note, type Outcome, pass } from './check.js';
import { noAnswer, SSE_PATH } from './endpoint-checks.js';
import { answerTo, probeStream, refusalMessage, statusAndMessage, statusText, type StreamProbe } from './http-probe.js';
import { closeSession, describeDiscover, discover, MODERN_VERSION, openSession } from './mcp-requests.js';

export const modernCheck: Check = {
  name: 'modern',
  label: '2026-07-28',
  skipIf: endpointUnavailable,
  async run(context, signal) {
    let answer: ReturnType<typeof answerTo>;
    let status: string;
    try {
      const response = await discover(context, credentialHeaders(context.options), signal);
      answer = answerTo(response, 'doctor-discover');
      status =
        refusalMessage(response) === undefined
          ? `${statusText(response)}, no JSON-RPC answer`
          : statusAndMessage(response);
    } catch (error) {
      return noAnswer(context, error, signal);
    }
    const fix = '2026-07-28 clients fall back to a 2025-era session when they negotiate (versionNegotiation auto)';
    if (answer?.result !== undefined) {
      const versions = answer.result.supportedVersions;
      if (Array.isArray(versions) && !versions.includes(MODERN_VERSION))
        return note(`server/discover answered, but names ${versions.join(', ')}`, fix);
      context.answered.modern = true;
      return pass(`server/discover answers: ${describeDiscover(answer.result)}`);
    }
    if (answer?.error !== undefined) {
      const data = answer.error.data as { supported?: unknown } | undefined;
      const supported = Array.isArray(data?.supported) ? `; it serves ${data.supported.join(', ')}` : '';
      return note(
        `does not answer: ${answer.error.message ?? 'error'} (JSON-RPC ${answer.error.code})${supported}`,
        fix,
      );
    }
    return note(`does not answer (${status})`, fix);
  },
};

export const legacyCheck: Check = {
  name: 'legacy',
  label: '2025-era session',
  skipIf: endpointUnavailable,
  async run(context, signal) {
    const headers = credentialHeaders(context.options);
    try {
      const opened = await openSession(context, headers, signal);
      if (opened.refused !== undefined) {
        const said = refusalMessage(opened.refused);
        return note(
          `initialize is refused (${statusAndMessage(opened.refused)}${said === undefined ? ', no JSON-RPC answer' : ''})`,
          '2025-era clients (the v1 SDK and most clients today) cannot connect: serve them too (remote-mcp does unless --no-legacy)',
        );
      }
      const { session, initialized } = opened;
      context.answered.legacy = true;
      const what = `initialize answers: ${session.serverInfo}, protocol ${session.protocolVersion}`;
      if (session.sessionId === undefined) return pass(`${what}, no Mcp-Session-Id (a stateless server)`);
      if (initialized === 404)
        return fail(
          `${what}, but the next request in its session got 404: the session is unknown there`,
          'requests reach instances that do not share sessions: route each session to one instance (sticky on Mcp-Session-Id) or share them (remote-mcp: redis)',
        );
      const deleted = await closeSession(context, session, headers, signal);
      if (deleted === 200 || deleted === 202 || deleted === 204)
        return pass(`${what}; its session ended with DELETE (${deleted})`);
      if (deleted === 405) return pass(`${what}; the server does not let clients end sessions (DELETE 405)`);
      return fail(
        `${what}, but DELETE of its session got ${deleted}`,
        'a session a client made must end with DELETE (200), or the server must answer 405 when it does not allow that',
      );
    } catch (error) {
      return noAnswer(context, error, signal);
    }
  },
};

/** Where an HTTP+SSE stream may be: the URL itself when it names one, else `<path>/events` and `/sse`. */
function streamUrls(url: URL): URL[] {
  if (SSE_PATH.test(url.pathname)) return [url];
  const path = url.pathname.replace(/\/$/, '');
  return [new URL(`${path}/events`, url.origin), new URL('/sse', url.origin)];
}

export const sseCheck: Check = {
  name: 'sse',
  label: 'HTTP+SSE',
  skipIf: endpointUnavailable,
  async run(context, signal): Promise<Outcome> {
    const named = SSE_PATH.test(context.target!.http.pathname);
    const tried: string[] = [];
    for (const url of streamUrls(context.target!.http)) {
      let stream: StreamProbe;
      try {
        stream = await probeStream(
          context,
          {
            url,
            method: 'GET',
            headers: { accept: 'text/event-stream', ...credentialHeaders(context.options) },
            signal,
          },
          (event) => event.event === 'endpoint',
        );
      } catch (error) {
        return noAnswer(context, error, signal);
      }
      const isStream = String(stream.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (stream.status === 200 && isStream) {
        if (stream.found === undefined)
          return fail(
            `the stream at ${url.pathname} sent no endpoint event${signal.aborted ? ` within ${context.options.timeoutMs} ms` : ''}`,
            'an HTTP+SSE server sends `event: endpoint` first; if it does, a proxy buffers the stream (nginx: proxy_buffering off)',
          );
        context.answered.sse = true;
        // The session id in the endpoint's query is the session's key: leave it out of the report.
        const endpoint = stream.found.data.split('?')[0];
        return pass(`GET ${url.pathname} streams; its endpoint event names ${endpoint}`);
      }
      tried.push(`${url.pathname}: ${stream.status}`);
    }
    const detail = `no stream answers (GET ${tried.join(', ')})`;
    const fix =
      'clients of the 2024-11-05 HTTP+SSE transport cannot connect: serve it if they matter (remote-mcp does unless --no-legacy-sse)';
    return named ? fail(detail, fix) : note(detail, fix);
  },
};
