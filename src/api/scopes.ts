/**
 * API scopes: what a token may do, and what each route needs. Every route declares its access in
 * its options (`config: { scope }`); one hook (api/access.ts) enforces it. Pure: no I/O.
 */

/** The scopes a token can hold. */
/** `private`: the bodies of private events this node holds (docs/confidentiality.md); never open, even with open reads. */
export const SCOPES = ['read', 'capture', 'subscribe', 'verify', 'admin', 'private'] as const;
export type Scope = (typeof SCOPES)[number];

/** A route's access: a scope, or `public` (no token ever: /health, the explorer page). */
export type RouteAccess = Scope | 'public';

/**
 * Scopes open to anyone while `api.requireTokenForReads` is off: reads and verification
 * requests. Every other scope always needs a token that holds it.
 */
export const OPEN_READ_SCOPES: readonly Scope[] = ['read', 'verify'];

/** Does a token holding `held` have `needed`? `read` includes `verify` (an item's status is a read). */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.includes(needed) || (needed === 'verify' && held.includes('read'));
}

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** `capture,read` → ['capture', 'read'] (sorted, no duplicates); throws naming an unknown scope. */
export function parseScopes(list: string): Scope[] {
  const parts = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) throw new Error(`no scope given; choose from ${SCOPES.join(', ')}`);
  const bad = parts.filter((s) => !isScope(s));
  if (bad.length > 0) throw new Error(`unknown scope(s) ${bad.join(', ')}; choose from ${SCOPES.join(', ')}`);
  return SCOPES.filter((s) => parts.includes(s));
}
