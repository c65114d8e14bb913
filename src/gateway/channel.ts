/**
 * A JSON-RPC message channel to the server behind the gateway: a stdio child's pipes (stdio-child.ts) or an
 * upstream URL through the SDK's client transports (upstream-channel.ts). ChildPeer speaks MCP over either.
 */

/** Why a channel stopped serving: the message clients see in their JSON-RPC error. */
export interface ChildExit {
  reason: string;
}

export interface Channel {
  /** What clients' errors call it: "the stdio server", "the upstream server http://…". */
  readonly label: string;
  /** The child's pid (stdio only), for the log. */
  readonly pid: number | undefined;
  /** Set once the channel can serve no more. */
  readonly exit: ChildExit | undefined;
  /** Sends one message; a rejection means this message did not reach the server (the reason is in the error). */
  send(message: Record<string, unknown>): void | Promise<void>;
  onMessage: (message: unknown) => void;
  /** Called once when the channel stops serving. */
  onExit: (exit: ChildExit) => void;
  /** A 2025-era initialize was answered with this version (HTTP transports send it as a header from now on). */
  negotiated?(protocolVersion: string): void;
  /** After notifications/initialized: resolves when the server can reach the gateway on its own (a GET stream). */
  afterInitialized?(): Promise<void>;
  /** Ends the channel (and what runs behind it); resolves when it is gone. */
  stop(): Promise<void>;
}
