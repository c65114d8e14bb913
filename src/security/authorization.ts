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
  matcher: RegExp | undefined;
  scopes: string[];
  subjects: string[];
  principals: string[];
}

export type Decision = { allowed: true } | { allowed: false; scopes: string[] };

const KINDS: PolicyKind[] = ['tools', 'resources', 'prompts'];

function compile(pattern: string, entries: string[]): Rule {
  const matcher = pattern.includes('*')
    ? new RegExp(
        `^${pattern
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      )
    : undefined;
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
      this.exact.get(kind)!.get(name) ?? this.wildcard.get(kind)!.find((candidate) => candidate.matcher!.test(name));
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
