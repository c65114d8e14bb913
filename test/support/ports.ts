/** Loopback ports for tests that must name a port before something binds it (or to have nothing bind it). */
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/**
 * A port the kernel just handed out on 127.0.0.1 and took back: free for a child (redis-server, nginx,
 * Prometheus) to bind, or, left alone, a port where a connection is refused.
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
