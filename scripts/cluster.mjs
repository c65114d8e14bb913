#!/usr/bin/env node
// `npm run cluster`: the scale-out topology on this machine, for trying it: a real redis-server, three
// `remote-mcp serve --redis` instances of the demo server sharing it, and a real nginx running
// deploy/nginx/nginx.conf in front of them, all on free loopback ports (what the cluster tests start).
// Needs Debian's redis-server and nginx (apt-get install redis-server nginx). Ctrl-C stops everything.
import { clusterMissing } from '../build/test/support/binaries.js';
import { startCluster } from '../build/test/support/cluster.js';

const missing = clusterMissing();
if (missing !== false) {
  console.error(`npm run cluster: ${missing}`);
  process.exit(1);
}
const cluster = await startCluster({
  instances: 3,
  nginx: true,
  module: 'build/examples/demo-server.js',
  args: ['--drain-delay-ms', '5000'],
});
const url = cluster.url;
process.stdout.write(
  `remote-mcp cluster: nginx at ${url}, round robin over\n${cluster.nodes.map((node) => `  ${node.url} (pid ${node.pid})`).join('\n')}\nsharing Redis at ${cluster.redis.url}\n\n` +
    `Try it (each request may land on another instance; the session follows):\n` +
    `  curl -si ${url} -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\\n` +
    `    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'\n\n` +
    `Stop one instance gracefully: kill -TERM <pid> (nothing fails); Ctrl-C stops the cluster.\n`,
);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  cluster.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
