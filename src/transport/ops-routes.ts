/**
 * The operator's routes: `GET /health` (liveness), `GET /ready` (readiness) and `GET /metrics` (Prometheus).
 * They never pass the request gate, so rate limits and per-principal concurrency do not apply: a probe must
 * get through when clients are being throttled. They answer while the server starts and drains (that is when
 * readiness matters most), keep the Host/Origin checks, and ask for credentials only when configured to.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Authenticator } from '../security/authenticator.js';
import { checkOrigin, type OriginGuardOptions } from '../security/origin-guard.js';
import type { HealthMonitor, ResolvedHealthOptions } from '../observability/health.js';
import type { Metrics, ResolvedMetricsOptions } from '../observability/metrics.js';
import { writeError, writeJson } from './http-io.js';

export type OpsRoute = 'health' | 'ready' | 'metrics';

export interface OpsSetup {
  guard: OriginGuardOptions;
  auth: Authenticator | undefined;
  health: { monitor: HealthMonitor; options: ResolvedHealthOptions } | undefined;
  metrics: { metrics: Metrics; options: ResolvedMetricsOptions } | undefined;
  onError: (error: Error) => void;
}

const NO_STORE = { 'cache-control': 'no-store' };

export class OpsEndpoints {
  private readonly routes = new Map<string, OpsRoute>();

  constructor(private readonly setup: OpsSetup) {
    if (setup.health !== undefined) {
      this.routes.set(setup.health.options.path, 'health');
      this.routes.set(setup.health.options.readyPath, 'ready');
    }
    // Metrics on their own port are not served on the MCP port.
    if (setup.metrics !== undefined && setup.metrics.options.port === undefined)
      this.routes.set(setup.metrics.options.path, 'metrics');
  }

  /** The operator route a request target names (query ignored), if any. */
  routeOf(url: string | undefined): OpsRoute | undefined {
    if (this.routes.size === 0) return undefined;
    const target = url ?? '/';
    const query = target.indexOf('?');
    return this.routes.get(query === -1 ? target : target.slice(0, query));
  }

  /** Paths this server answers besides the MCP endpoint, for routing conflicts at construction. */
  paths(): string[] {
    return [...this.routes.keys()];
  }

  serve(
    route: OpsRoute,
    req: IncomingMessage,
    res: ServerResponse,
    guard: OriginGuardOptions = this.setup.guard,
  ): void {
    this.answer(route, req, res, guard).catch((error: unknown) => {
      this.setup.onError(error as Error);
      writeError(res, 'INTERNAL');
    });
  }

  private async answer(
    route: OpsRoute,
    req: IncomingMessage,
    res: ServerResponse,
    guard: OriginGuardOptions,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return writeError(res, 'METHOD_NOT_ALLOWED', { headers: { allow: 'GET, HEAD' } });
    const refused = checkOrigin(req, guard);
    if (refused !== undefined) return writeError(res, refused.name);
    const requireAuth =
      route === 'metrics' ? this.setup.metrics!.options.requireAuth : this.setup.health!.options.requireAuth;
    if (requireAuth && this.setup.auth !== undefined) {
      const outcome = await this.setup.auth.authenticate(req);
      if (outcome.refusal !== undefined) {
        const refusal = outcome.refusal;
        return writeError(res, refusal.name, {
          ...(refusal.message !== undefined && { message: refusal.message }),
          headers: refusal.headers,
        });
      }
    }
    switch (route) {
      case 'health': {
        const { status, report } = await this.setup.health!.monitor.health();
        return writeJson(res, status, report, NO_STORE);
      }
      case 'ready': {
        const { status, body } = await this.setup.health!.monitor.ready();
        return writeJson(res, status, body, NO_STORE);
      }
      case 'metrics': {
        const { metrics } = this.setup.metrics!;
        const text = await metrics.render();
        res.writeHead(200, {
          'content-type': metrics.contentType,
          'content-length': Buffer.byteLength(text),
          ...NO_STORE,
        });
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
    }
  }
}
