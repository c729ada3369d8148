/**
 * Consortium setup helpers: a member's public part from its keys, and genesis documents for
 * a one-member dev chain or an N-member devnet.
 */
import { DEV_PARAMS } from '../chain/genesis.js';
import { keyIdHex, type KeyPair } from '../chain/keys.js';
import { toHex } from '../common/bytes.js';
import type { ConsortiumParams, Genesis, Member, Role } from '../chain/types.js';

export interface MemberSpec {
  name: string;
  role: Role;
  key: KeyPair;
  peerId: string;
  gs1CompanyPrefixes?: string[];
  canSeal?: boolean;
}

export function memberOf(spec: MemberSpec): Member {
  return {
    id: keyIdHex(spec.key.publicKey),
    name: spec.name,
    role: spec.role,
    signingKey: toHex(spec.key.publicKey),
    peerId: spec.peerId,
    gs1CompanyPrefixes: spec.gs1CompanyPrefixes ?? [],
    canSeal: spec.canSeal ?? true,
  };
}

export function makeGenesis(name: string, members: Member[], time: number, params: ConsortiumParams = DEV_PARAMS): Genesis {
  return { v: 1, name, time, params, members };
}

/** A one-member dev consortium: that member holds every role and any GS1 company prefix. */
export function devGenesis(key: KeyPair, peerId: string, time: number, params: ConsortiumParams = DEV_PARAMS): Genesis {
  return makeGenesis('tracechain dev', [memberOf({ name: 'dev', role: 'dev', key, peerId })], time, params);
}
