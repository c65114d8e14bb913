/**
 * CORS for `--origin`: what a browser page at that origin gets. First the preflight a browser sends before an
 * MCP POST (its custom headers make one necessary), then the POST itself, whose answer must allow the origin
 * and expose Mcp-Session-Id (a browser hides response headers from scripts unless they are exposed).
 */
import { type Check, credentialHeaders, fail, note, pass, unreachable } from './check.js';
import { noAnswer } from './endpoint-checks.js';
import { type ProbeResponse, probe, statusAndMessage, statusText } from './http-probe.js';
import { modernBody, modernHeaders } from './mcp-requests.js';

/** The request headers an MCP client in a browser sends that are not CORS-safelisted: each needs allowing. */
export const CORS_REQUEST_HEADERS = [
  'authorization',
  'content-type',
  'mcp-method',
  'mcp-protocol-version',
  'mcp-session-id',
];
/** Of those, the ones the check insists on (mcp-method is 2026-07-28 only; the others every era uses). */
const REQUIRED_HEADERS = ['content-type', 'mcp-protocol-version', 'mcp-session-id', 'authorization'];

const list = (value: string | string[] | undefined) =>
  String(value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');

function allowsOrigin(response: ProbeResponse, origin: string): string | undefined {
  const allowed = response.headers['access-control-allow-origin'];
  if (allowed === undefined) return 'no Access-Control-Allow-Origin';
  if (allowed !== '*' && allowed.toLowerCase() !== origin.toLowerCase())
    return `Access-Control-Allow-Origin is ${allowed}, not ${origin}`;
  return undefined;
}

const allowFix = (origin: string) =>
  `allow ${origin} in the server’s CORS policy (remote-mcp: cors.allowedOrigins, serve --cors-allowed-origins ${origin})`;

export const corsCheck: Check = {
  name: 'cors',
  label: 'CORS',
  skipIf: unreachable,
  async run(context, signal) {
    const origin = context.options.origin;
    if (origin === undefined)
      return note(
        'not checked',
        'give --origin https://your-app.example to check what a browser page at that origin gets',
      );
    const url = context.target!.http;
    let preflight: ProbeResponse;
    try {
      preflight = await probe(context, {
        url,
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': CORS_REQUEST_HEADERS.join(','),
        },
        signal,
      });
    } catch (error) {
      return noAnswer(context, error, signal);
    }
    const refusedOrigin = allowsOrigin(preflight, origin);
    if (preflight.status < 200 || preflight.status >= 300 || refusedOrigin !== undefined) {
      return fail(
        `the preflight got ${statusAndMessage(preflight)}${refusedOrigin === undefined ? '' : `, ${refusedOrigin}`}`,
        allowFix(origin),
      );
    }
    const methods = list(preflight.headers['access-control-allow-methods']);
    // POST is CORS-safelisted: a preflight answer may leave it out, but not list other methods without it.
    if (methods.length > 0 && !methods.includes('post') && !methods.includes('*'))
      return fail(
        `the preflight allows ${methods.join(', ').toUpperCase()}, not POST`,
        'allow POST (and GET, DELETE for 2025-era sessions) in Access-Control-Allow-Methods',
      );
    const headers = list(preflight.headers['access-control-allow-headers']);
    const missing = REQUIRED_HEADERS.filter(
      // `*` covers every header but Authorization (the Fetch standard).
      (name) => !headers.includes(name) && !(headers.includes('*') && name !== 'authorization'),
    );
    if (missing.length > 0)
      return fail(
        `Access-Control-Allow-Headers lacks ${missing.join(', ')}${headers.length === 0 ? ' (none allowed)' : ` (allows ${headers.join(', ')})`}`,
        `add ${missing.join(', ')} to Access-Control-Allow-Headers: browsers refuse to send an MCP request without them`,
      );
    let post: ProbeResponse;
    try {
      post = await probe(context, {
        url,
        method: 'POST',
        headers: { ...modernHeaders('server/discover'), ...credentialHeaders(context.options), origin },
        body: modernBody('doctor-cors', 'server/discover'),
        signal,
      });
    } catch (error) {
      return noAnswer(context, error, signal);
    }
    const postOrigin = allowsOrigin(post, origin);
    if (postOrigin !== undefined)
      return fail(
        `the POST answer (${statusText(post)}) has ${postOrigin}: the browser hides it from the page`,
        allowFix(origin),
      );
    const exposed = list(post.headers['access-control-expose-headers']);
    if (!exposed.includes('mcp-session-id') && !exposed.includes('*'))
      return fail(
        `the POST answer does not expose Mcp-Session-Id${exposed.length === 0 ? '' : ` (exposes ${exposed.join(', ')})`}: browser code cannot read the session id, so 2025-era sessions fail`,
        'list Mcp-Session-Id (and Mcp-Protocol-Version, WWW-Authenticate) in Access-Control-Expose-Headers',
      );
    return pass(
      `${origin} allowed: preflight ${statusText(preflight)} allows ${methods.length > 0 ? methods.join(', ').toUpperCase() : 'POST'} and the MCP headers; the POST answer exposes Mcp-Session-Id`,
    );
  },
};
