/**
 * A cluster for the scale-out tests: a real redis-server, N `remote-mcp serve` processes sharing it (the CLI,
 * `--redis`, the shared requestState key from the environment), and optionally a real nginx running
 * deploy/nginx/nginx.conf in front of them. Everything listens on free loopback ports and is stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

import { untilServing } from '../helpers.js';
import { startNginx } from './nginx.js';
import { startRedis } from './redis-server.js';

const CLI = 'build/src/cli/main.js';
export const CLUSTER_FIXTURE = 'build/test/fixtures/cluster-server.js';

/** A 2025-era tools/call body (the cluster tests send them to chosen instances). */
export const toolCall = (id: number | string, name: string, args: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** The text of a tools/call result message, if it has one. */
export const resultText = (message: any): string | undefined => message?.result?.content?.[0]?.text;

export interface ClusterNode {
  /** The instance's own endpoint URL (bypassing nginx). */
  url: string;
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Sends `signal` and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Cluster {
  redis: Awaited<ReturnType<typeof startRedis>>;
  nodes: ClusterNode[];
  /** nginx's endpoint URL (round robin over the nodes), when started with nginx. */
  url: string;
  nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  requestStateKey: string;
  /** Starts one more instance sharing the cluster's Redis and key. */
  addNode(): Promise<ClusterNode>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  instances?: number;
  nginx?: boolean;
  /** Extra `serve` flags for every instance. */
  args?: string[];
  /** The module to serve (default: the cluster fixture). */
  module?: string;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedis();
  const requestStateKey = randomBytes(32).toString('hex');
  const nodes: ClusterNode[] = [];
  const addNode = async (): Promise<ClusterNode> => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        options.module ?? CLUSTER_FIXTURE,
        '--port',
        '0',
        '--redis',
        redis.url,
        '--log-level',
        'warn',
        '--no-metrics',
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REMOTE_MCP_REQUEST_STATE_KEY: requestStateKey } },
    );
    const serving = await untilServing(child, 15_000, 'a cluster instance to print its URL');
    const node: ClusterNode = {
      url: serving.url,
      child,
      pid: child.pid!,
      output: serving.output,
      kill: async (signal = 'SIGTERM') => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill(signal);
        await exited;
      },
    };
    nodes.push(node);
    return node;
  };
  try {
    for (let i = 0; i < (options.instances ?? 3); i++) await addNode();
    const nginx =
      options.nginx === false ? undefined : await startNginx({ upstreams: nodes.map((n) => new URL(n.url).host) });
    return {
      redis,
      nodes,
      nginx,
      url: nginx === undefined ? nodes[0]!.url : `${nginx.url}/mcp`,
      requestStateKey,
      addNode,
      stop: async () => {
        await nginx?.stop();
        await Promise.all(nodes.map((node) => node.kill('SIGKILL')));
        await redis.stop();
      },
    };
  } catch (error) {
    await Promise.all(nodes.map((node) => node.kill('SIGKILL')));
    await redis.stop();
    throw error;
  }
}
