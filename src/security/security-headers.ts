/**
 * Security headers from helmet on every response remote-mcp writes. helmet is Express middleware; running it
 * per request would cost the hot path a dozen header computations, so it runs once, against a recording
 * response, and the headers it set are replayed on each response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import helmet from 'helmet';

/** The headers helmet sets, with a policy fit for a JSON/SSE API (no documents, no framing). */
export function securityHeaders(): Array<[string, string]> {
  const recorded = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      recorded.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    },
    removeHeader(name: string) {
      recorded.delete(name.toLowerCase());
    },
    getHeader(name: string) {
      return recorded.get(name.toLowerCase());
    },
  };
  const middleware = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    // Cross-origin reads are governed by the CORS policy; CORP same-origin would block allowed browser apps.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    // Headers about documents, downloads and legacy browser features say nothing about JSON and SSE answers;
    // each one is a per-response cost on the hot path, so they are left out.
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  let done = false;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => (done = true));
  if (!done) throw new Error('remote-mcp: helmet did not complete synchronously');
  return [...recorded];
}
