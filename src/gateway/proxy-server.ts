/**
 * An SDK `Server` whose every request is answered by a server behind the gateway. remote-mcp serves it like any
 * factory's server (both eras, every transport, auth, limits, audit), and each handler forwards the request,
 * adapting it to the era the child speaks:
 *
 *  - a 2026-07-28 child gets the request with its per-request envelope: the client's own for 2026-07-28
 *    requests, one built from the session's initialize for 2025-era ones (its `input_required` answers are then
 *    fulfilled by the SDK's legacy shim, which asks the 2025-era client and retries);
 *  - a 2025-era child gets the request without the envelope, on a connection initialized for that client.
 *
 * What the child sends during a call travels back the way the call came: progress and log lines as related
 * notifications, elicitation and sampling as related requests (2025-era clients only: a 2026-07-28 client has
 * no server-to-client requests, so children serving it are initialized without those capabilities).
 */
import { ProtocolError, Server, type ServerContext } from '@modelcontextprotocol/server';

import type { FactoryContext } from '../server/options.js';
import type { CallOwner, ChildIdentity } from './child-peer.js';
import { GatewayError } from './gateway-errors.js';

type Json = Record<string, unknown>;

const ENVELOPE_PREFIX = 'io.modelcontextprotocol/';

/** Which child a request goes to, and back. */
export interface ChildLease {
  readonly identity: ChildIdentity;
  request(method: string, params: Json | undefined, options: { signal: AbortSignal; owner: CallOwner }): Promise<Json>;
  release(): void;
}

/** What a proxy asks the gateway for: a child for this request. */
export type LeaseChild = (request: {
  era: 'modern' | 'legacy';
  sessionId: string | undefined;
  /** 2025-era: the capabilities and client info the session initialized with. */
  capabilities: Json;
  clientInfo: { name: string; version: string } | undefined;
}) => Promise<ChildLease>;

/** The methods forwarded, by the server capability that makes them available. */
const FORWARDED: Array<{ capability: string; methods: string[]; also?: (capability: Json) => string[] }> = [
  { capability: 'tools', methods: ['tools/list', 'tools/call'] },
  {
    capability: 'resources',
    methods: ['resources/list', 'resources/templates/list', 'resources/read'],
    also: (resources) => (resources.subscribe === true ? ['resources/subscribe', 'resources/unsubscribe'] : []),
  },
  { capability: 'prompts', methods: ['prompts/list', 'prompts/get'] },
  { capability: 'completions', methods: ['completion/complete'] },
];

/** The child's capabilities that the gateway serves (it forwards nothing else, so it advertises nothing else). */
export function advertisedCapabilities(child: Json): Json {
  const served: Json = {};
  for (const { capability } of FORWARDED) if (child[capability] !== undefined) served[capability] = child[capability];
  if (child.logging !== undefined) served.logging = child.logging;
  return served;
}

export interface ProxyOptions {
  /**
   * One child serves many sessions: `resources/unsubscribe` is answered here rather than forwarded, since the
   * child cannot tell whose subscription it was (the runtime routes updates only to subscribed sessions).
   */
  sharedChildren: boolean;
}

export function createProxyServer(
  identity: ChildIdentity,
  context: FactoryContext,
  lease: LeaseChild,
  options: ProxyOptions,
): Server {
  const capabilities = advertisedCapabilities(identity.capabilities);
  const server = new Server(identity.serverInfo, {
    capabilities,
    ...(identity.instructions !== undefined && { instructions: identity.instructions }),
  });
  for (const { capability, methods, also } of FORWARDED) {
    const offered = capabilities[capability] as Json | undefined;
    if (offered === undefined) continue;
    for (const method of [...methods, ...(also?.(offered) ?? [])])
      server.setRequestHandler(method as 'tools/list', (request, ctx) =>
        method === 'resources/unsubscribe' && options.sharedChildren
          ? ({} as never)
          : forward(server, context.era, lease, method, request.params as Json | undefined, ctx),
      );
  }
  return server;
}

type Ctx = ServerContext;

async function forward(
  server: Server,
  era: 'modern' | 'legacy',
  lease: LeaseChild,
  method: string,
  params: Json | undefined,
  ctx: Ctx,
): Promise<never> {
  let child: ChildLease;
  try {
    child = await lease({
      era,
      sessionId: ctx.sessionId,
      capabilities: (server.getClientCapabilities() as Json | undefined) ?? {},
      clientInfo: server.getClientVersion(),
    });
  } catch (error) {
    throw asProtocolError(error);
  }
  try {
    const sent = paramsForChild(server, era, child.identity.era, params, ctx);
    return (await child.request(method, sent, { signal: ctx.mcpReq.signal, owner: ownerOf(era, ctx) })) as never;
  } catch (error) {
    throw asProtocolError(error);
  } finally {
    child.release();
  }
}

/** The request as the child's era expects it. */
function paramsForChild(
  server: Server,
  era: 'modern' | 'legacy',
  childEra: 'modern' | 'legacy',
  params: Json | undefined,
  ctx: Ctx,
): Json | undefined {
  const meta: Json = {};
  for (const [key, value] of Object.entries((params?._meta as Json | undefined) ?? {}))
    if (!key.startsWith(ENVELOPE_PREFIX)) meta[key] = value;
  const sent: Json = { ...params };
  delete sent._meta;
  if (childEra === 'modern') {
    const envelope =
      era === 'modern'
        ? (ctx.mcpReq.envelope as Json | undefined)
        : {
            [`${ENVELOPE_PREFIX}protocolVersion`]: '2026-07-28',
            [`${ENVELOPE_PREFIX}clientCapabilities`]: server.getClientCapabilities() ?? {},
            [`${ENVELOPE_PREFIX}clientInfo`]: server.getClientVersion() ?? { name: 'unknown', version: '0' },
            // 2026-07-28 servers log only when asked; the runtime filters by the session's logging/setLevel.
            [`${ENVELOPE_PREFIX}logLevel`]: 'debug',
          };
    Object.assign(meta, envelope);
    if (ctx.mcpReq.inputResponses !== undefined) sent.inputResponses = ctx.mcpReq.inputResponses;
    const state = ctx.mcpReq.requestState<string>();
    if (typeof state === 'string') sent.requestState = state;
  }
  if (Object.keys(meta).length > 0) sent._meta = meta;
  return Object.keys(sent).length === 0 ? undefined : sent;
}

/** Where what the child sends during the call goes: back along the client's request. */
function ownerOf(era: 'modern' | 'legacy', ctx: Ctx): CallOwner {
  const owner: CallOwner = {
    progress: (params) => void ctx.mcpReq.notify({ method: 'notifications/progress', params } as never).catch(() => {}),
    notify: (message) => void ctx.mcpReq.notify(message as never).catch(() => {}),
  };
  if (era === 'legacy')
    owner.request = (message, signal) =>
      ctx.mcpReq.send(message as { method: 'elicitation/create'; params: never }, { signal }) as Promise<Json>;
  return owner;
}

function asProtocolError(error: unknown): Error {
  if (error instanceof GatewayError) return new ProtocolError(error.code, error.message, error.data);
  return error as Error;
}
