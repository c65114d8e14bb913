// TEMPORARY STUB (lead engineer): replaced by the client-ip helper's module.
import type { IncomingMessage } from 'node:http';
export type TrustProxy = boolean | number | string[];
export type ResolvedTrustProxy = TrustProxy;
export function resolveTrustProxy(value: unknown): ResolvedTrustProxy { return value as TrustProxy; }
export function clientIp(req: IncomingMessage, _trust: ResolvedTrustProxy): string { return req.socket.remoteAddress ?? 'unknown'; }
