/** remote-mcp's version, as package.json states it (test/docs.test.ts checks they agree). */
export const VERSION = '0.1.0';
