/** remote-mcp: put MCP servers on the network, ready for production. */
export * from './server/index.js';
