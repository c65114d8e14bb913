/**
 * WWW-Authenticate parsing (RFC 9110 §11.6.1): one header may carry several challenges, each a scheme followed
 * by a token68 or by comma-separated `name=value` parameters whose values may be quoted strings. A comma
 * therefore separates either two parameters or two challenges; what follows it decides which.
 */

export interface Challenge {
  /** As sent (`Bearer`, `ApiKey`); compare case-insensitively. */
  scheme: string;
  /** Parameter names lower-cased; quoted values unescaped. */
  params: Record<string, string>;
  token68?: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

class Reader {
  position = 0;
  constructor(private readonly text: string) {}

  get rest(): string {
    return this.text.slice(this.position);
  }

  get done(): boolean {
    return this.position >= this.text.length;
  }

  skip(pattern: RegExp): void {
    const match = pattern.exec(this.rest);
    if (match !== null) this.position += match[0].length;
  }

  read(pattern: RegExp): string | undefined {
    const match = pattern.exec(this.rest);
    if (match === null) return undefined;
    this.position += match[0].length;
    return match[0];
  }

  peek(): string | undefined {
    return this.text[this.position];
  }

  /** A quoted-string's value, backslash escapes undone. */
  quoted(): string {
    let value = '';
    this.position += 1;
    while (!this.done) {
      const char = this.text[this.position++]!;
      if (char === '"') return value;
      value += char === '\\' && !this.done ? this.text[this.position++]! : char;
    }
    return value;
  }

  /** Whether a `name =` parameter starts here (rather than the next challenge's scheme). */
  atParam(): boolean {
    return (
      /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=/.test(this.rest) && !/^[A-Za-z0-9\-._~+/]+=+[ \t]*(,|$)/.test(this.rest)
    );
  }
}

/** Every challenge in the given header values (a repeated header counts as one comma-joined list). */
export function parseWwwAuthenticate(values: string[]): Challenge[] {
  const challenges: Challenge[] = [];
  for (const value of values) {
    const reader = new Reader(value);
    while (!reader.done) {
      reader.skip(/^[ \t,]+/);
      const scheme = reader.read(TOKEN);
      if (scheme === undefined) {
        // Not a challenge: skip to the next comma rather than loop on bytes we cannot read.
        reader.skip(/^[^,]*/);
        continue;
      }
      const challenge: Challenge = { scheme, params: {} };
      challenges.push(challenge);
      reader.skip(/^[ \t]+/);
      if (!reader.atParam()) {
        const token68 = /^[A-Za-z0-9\-._~+/]+=*[ \t]*(,|$)/.test(reader.rest) ? reader.read(TOKEN68) : undefined;
        if (token68 !== undefined) challenge.token68 = token68;
        continue;
      }
      while (reader.atParam()) {
        const name = reader.read(TOKEN)!.toLowerCase();
        reader.skip(/^[ \t]*=[ \t]*/);
        challenge.params[name] = reader.peek() === '"' ? reader.quoted() : (reader.read(TOKEN) ?? '');
        reader.skip(/^[ \t]*,?[ \t,]*/);
      }
    }
  }
  return challenges;
}

/** `Bearer resource_metadata="…", scope="mcp"` again, for the report. */
export function formatChallenge(challenge: Challenge): string {
  const params = Object.entries(challenge.params).map(([name, value]) => `${name}="${value}"`);
  const rest = challenge.token68 ?? params.join(', ');
  return rest === '' ? challenge.scheme : `${challenge.scheme} ${rest}`;
}
