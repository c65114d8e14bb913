/**
 * The principal of an authenticated HTTP request, kept on the request object itself (under a symbol, so it
 * cannot collide with anything else on it) from authentication until the era handlers deliver its messages.
 */
import type { IncomingMessage } from 'node:http';

import type { AuthInfo } from '@modelcontextprotocol/server';

import { principalKey, toAuthInfo, type Principal } from './principal.js';

const IDENTITY = Symbol('remote-mcp.identity');

/** What the transports need of a principal: the principal, its binding key, and the SDK's AuthInfo. */
export interface Identity {
  principal: Principal;
  key: string;
  authInfo: AuthInfo;
}

export function identityOf(principal: Principal): Identity {
  return { principal, key: principalKey(principal), authInfo: toAuthInfo(principal) };
}

export function setIdentity(req: IncomingMessage, identity: Identity): void {
  (req as unknown as Record<symbol, Identity>)[IDENTITY] = identity;
}

/** The request's identity; undefined when auth is off. */
export function requestIdentity(req: IncomingMessage): Identity | undefined {
  return (req as unknown as Record<symbol, Identity | undefined>)[IDENTITY];
}
