/**
 * The change-event bus behind `subscriptions/listen` (2026-07-28) and the 2025-era standalone streams: every
 * list-changed or resource-updated event published here reaches every open subscription that asked for it.
 * Events are plain JSON so a later implementation can carry them between instances (Redis pub/sub); publish is
 * async for the same reason.
 */
export type ServerEvent =
  | { kind: 'tools_list_changed' }
  | { kind: 'prompts_list_changed' }
  | { kind: 'resources_list_changed' }
  | { kind: 'resource_updated'; uri: string };

export interface EventBus {
  publish(event: ServerEvent): Promise<void>;
  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: (event: ServerEvent) => void): () => void;
  close(): Promise<void>;
  /** Optional: the store's health for /health and /ready; resolves with details, rejects when it is unreachable. */
  check?(): Promise<unknown>;
}

/** Delivers events to listeners in this process. */
export class InMemoryEventBus implements EventBus {
  private readonly listeners = new Set<(event: ServerEvent) => void>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  async check(): Promise<unknown> {
    return { kind: 'memory', listeners: this.listeners.size };
  }

  async publish(event: ServerEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // One broken subscriber must not keep the event from the others.
        this.onListenerError(error);
      }
    }
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

const NOTIFICATION_OF: Record<ServerEvent['kind'], string> = {
  tools_list_changed: 'notifications/tools/list_changed',
  prompts_list_changed: 'notifications/prompts/list_changed',
  resources_list_changed: 'notifications/resources/list_changed',
  resource_updated: 'notifications/resources/updated',
};

/** The JSON-RPC notification that carries an event to a client. */
export function eventNotification(event: ServerEvent): {
  jsonrpc: '2.0';
  method: string;
  params: Record<string, unknown>;
} {
  return {
    jsonrpc: '2.0',
    method: NOTIFICATION_OF[event.kind],
    params: event.kind === 'resource_updated' ? { uri: event.uri } : {},
  };
}

/** The event a server instance's unrelated notification stands for, if it is one the bus carries. */
export function eventOfNotification(method: string, params: unknown): ServerEvent | undefined {
  switch (method) {
    case 'notifications/tools/list_changed':
      return { kind: 'tools_list_changed' };
    case 'notifications/prompts/list_changed':
      return { kind: 'prompts_list_changed' };
    case 'notifications/resources/list_changed':
      return { kind: 'resources_list_changed' };
    case 'notifications/resources/updated': {
      const uri = (params as { uri?: unknown } | undefined)?.uri;
      return typeof uri === 'string' ? { kind: 'resource_updated', uri } : undefined;
    }
    default:
      return undefined;
  }
}

/** Identity of an event, for coalescing duplicates. */
export function eventKey(event: ServerEvent): string {
  return event.kind === 'resource_updated' ? `${event.kind} ${event.uri}` : event.kind;
}
