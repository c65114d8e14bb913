// TEMPORARY STUB (lead engineer): replaced by the audit-log helper's module.
export interface AuditOptions { destination?: string; includeArguments?: boolean; sensitiveArguments?: string[] }
export type ResolvedAuditOptions = AuditOptions;
export function resolveAuditOptions(value: unknown): ResolvedAuditOptions | undefined { return value as AuditOptions | undefined; }
export interface AuditEntry { requestId: string; principal?: string; subject?: string; clientIp: string; transport: 'http' | 'sse' | 'websocket'; era: 'modern' | 'legacy'; method?: string; name?: string; outcome: 'ok' | 'error' | 'denied' | 'rate-limited' | 'unauthenticated' | 'invalid' | 'cancelled'; status?: number; errorCode?: number; reason?: string; durationMs?: number; arguments?: unknown; rpcId?: string | number | null }
export class AuditLog { constructor(_options: ResolvedAuditOptions) {} record(_entry: AuditEntry): void {} async close(): Promise<void> {} }
let counter = 0;
export function newRequestId(): string { return (++counter).toString(16); }
