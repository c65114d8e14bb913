/**
 * Per-identity authorization: which principals may use which tools, resources and prompts.
 *
 *   authorization: { tools: { 'admin_*': ['admin'], deploy: ['ops', 'subject:alice'] }, resources: { 'secret://*': ['secrets'] } }
 *
 * A rule maps a name (or URI) pattern to who may use what it matches: a scope (`admin`), a subject
 * (`subject:alice`) or a principal key (`principal:key:ab12cd34ef56`). Anyone matching one entry is allowed. An exact
 * pattern wins over wildcard ones (`*` matches any run of characters), and wildcard patterns are tried in the
 * order written. Names no rule matches are open to every authenticated principal.
 *
 * Denied items are hidden from that principal's tools/list, prompts/list, resources/list and
 * resources/templates/list, and using one is refused with 403: insufficient_scope naming the rule's scopes (a
 * client may re-authorize with them), or a plain 403 when only named principals are allowed.
 */
import { RemoteMcpOptionError } from '../errors.js';
import type { Principal } from './principal.js';

export type PolicyKind = 'tools' | 'resources' | 'prompts';

export type AuthorizationPolicy = Partial<Record<PolicyKind, Record<string, string[]>>>;

interface Rule {
  pattern: string;
  /** For a pattern with `*`; undefined for an exact one. */
  matcher: ((name: string) => boolean) | undefined;
  scopes: string[];
  subjects: string[];
  principals: string[];
}

export type Decision = { allowed: true } | { allowed: false; scopes: string[] };

const KINDS: PolicyKind[] = ['tools', 'resources', 'prompts'];

/**
 * A matcher for a pattern whose `*` matches any run of characters (none, `/`, line breaks: anything), every
 * other character itself. Names come from clients (a resources/read URI may be megabytes long), so the match
 * must not backtrack: the text between stars must start the name, end it, and occur in order in between, and
 * placing each middle part at its first occurrence after the previous one is as good as any placement. Each part
 * is found with one indexOf scan from where the previous ended, so the work grows with the name's length (at
 * worst times the pattern's), where the regular expression this replaces (`^.*a.*b$`) took time quadratic in
 * the name on names full of near-matches: 180 KB blocked the event loop for seconds.
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  const parts = pattern.split('*');
  const head = parts[0]!;
  const tail = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((part) => part.length > 0);
  const shortest = head.length + tail.length + middle.reduce((sum, part) => sum + part.length, 0);
  return (name) => {
    if (name.length < shortest || !name.startsWith(head) || !name.endsWith(tail)) return false;
    const end = name.length - tail.length;
    let at = head.length;
    for (const part of middle) {
      const found = name.indexOf(part, at);
      if (found === -1 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}

function compile(pattern: string, entries: string[]): Rule {
  const matcher = pattern.includes('*') ? globMatcher(pattern) : undefined;
  const rule: Rule = { pattern, matcher, scopes: [], subjects: [], principals: [] };
  for (const entry of entries) {
    if (entry.startsWith('subject:')) rule.subjects.push(entry.slice('subject:'.length));
    else if (entry.startsWith('principal:')) rule.principals.push(entry.slice('principal:'.length));
    else rule.scopes.push(entry);
  }
  return rule;
}

export class Authorizer {
  private readonly exact = new Map<PolicyKind, Map<string, Rule>>();
  private readonly wildcard = new Map<PolicyKind, Rule[]>();

  constructor(policy: AuthorizationPolicy) {
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy))
      throw new RemoteMcpOptionError(
        `remote-mcp: option \`authorization\` must be an object with tools, resources and/or prompts rules; received ${JSON.stringify(policy)}.`,
      );
    for (const key of Object.keys(policy)) {
      if (!KINDS.includes(key as PolicyKind))
        throw new RemoteMcpOptionError(
          `remote-mcp: option \`authorization.${key}\` is unknown; the policy has tools, resources and prompts.`,
        );
    }
    for (const kind of KINDS) {
      const rules = policy[kind] ?? {};
      if (rules === null || typeof rules !== 'object' || Array.isArray(rules))
        throw new RemoteMcpOptionError(
          `remote-mcp: option \`authorization.${kind}\` must be an object mapping patterns to lists; received ${JSON.stringify(rules)}.`,
        );
      const exact = new Map<string, Rule>();
      const wildcard: Rule[] = [];
      for (const [pattern, entries] of Object.entries(rules)) {
        if (
          !Array.isArray(entries) ||
          entries.length === 0 ||
          entries.some((entry) => typeof entry !== 'string' || entry.length === 0)
        ) {
          throw new RemoteMcpOptionError(
            `remote-mcp: option \`authorization.${kind}["${pattern}"]\` must be a non-empty array of scopes, "subject:<sub>" or "principal:<key>" entries; received ${JSON.stringify(entries)}.`,
          );
        }
        const rule = compile(pattern, entries);
        if (rule.matcher === undefined) exact.set(pattern, rule);
        else wildcard.push(rule);
      }
      this.exact.set(kind, exact);
      this.wildcard.set(kind, wildcard);
    }
  }

  decide(kind: PolicyKind, name: string, principal: Principal | undefined, principalKey: string | undefined): Decision {
    const rule =
      this.exact.get(kind)!.get(name) ?? this.wildcard.get(kind)!.find((candidate) => candidate.matcher!(name));
    if (rule === undefined) return { allowed: true };
    if (principal !== undefined) {
      if (rule.scopes.some((scope) => principal.scopes.includes(scope))) return { allowed: true };
      if (rule.subjects.includes(principal.subject)) return { allowed: true };
      if (principalKey !== undefined && rule.principals.includes(principalKey)) return { allowed: true };
    }
    return { allowed: false, scopes: rule.scopes };
  }

  /** Every scope the policy names (for the resource metadata's scopes_supported). */
  scopes(): string[] {
    const all = new Set<string>();
    for (const kind of KINDS) {
      for (const rule of [...this.exact.get(kind)!.values(), ...this.wildcard.get(kind)!])
        for (const scope of rule.scopes) all.add(scope);
    }
    return [...all];
  }
}

/** What a request uses that the policy governs: the tool, prompt or resource it names. */
export function subjectOf(
  method: string,
  params: Record<string, unknown> | undefined,
): { kind: PolicyKind; name: string } | undefined {
  switch (method) {
    case 'tools/call':
      return typeof params?.name === 'string' ? { kind: 'tools', name: params.name } : undefined;
    case 'prompts/get':
      return typeof params?.name === 'string' ? { kind: 'prompts', name: params.name } : undefined;
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return typeof params?.uri === 'string' ? { kind: 'resources', name: params.uri } : undefined;
    case 'completion/complete': {
      const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
      if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') return { kind: 'prompts', name: ref.name };
      if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') return { kind: 'resources', name: ref.uri };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The list results the policy filters: method → [result field, item key, policy kind]. */
export const FILTERED_LISTS: Record<string, [string, string, PolicyKind]> = {
  'tools/list': ['tools', 'name', 'tools'],
  'prompts/list': ['prompts', 'name', 'prompts'],
  'resources/list': ['resources', 'uri', 'resources'],
  'resources/templates/list': ['resourceTemplates', 'uriTemplate', 'resources'],
};
