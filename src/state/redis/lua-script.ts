/**
 * A Lua script run with EVALSHA (one round trip, the script's text is not resent each call), falling back to
 * EVAL when Redis does not know the script yet (first use, or after Redis restarted and lost its script cache).
 * A script runs atomically: no other client's command runs between its steps.
 */
import { createHash } from 'node:crypto';

import type { RedisClient } from './connection.js';

export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    const options = { keys, arguments: args.map(String) };
    try {
      return await client.evalSha(this.sha, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, options);
    }
  }
}
