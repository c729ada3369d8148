/**
 * Reading corrections back (trace/correction.ts): whether an event was declared erroneous, and
 * what the declaration says. The declaration of event E is recorded under declarationIdOf(E),
 * so one location read (batched for a journey's page) answers it.
 */
import { declarationIdOf, errorDeclarationOf } from '../trace/correction.js';
import type { BlockRef, Provenance } from './provenance.js';

/** What /events/{id}/proof and /trace add to an event declared erroneous. */
export interface DeclarationNote {
  /** The record ID of the declaration (its entry: /events/{declarationId}/proof). */
  declarationId: string;
  txId: string;
  /** Null while the declaration is pending. */
  block: BlockRef | null;
  reason: string | null;
  declarationTime: string | null;
  correctiveEventIDs: string[];
}

/** The declaration of each event (undefined: none), on the main chain or pending; one batched read for the common case of none. */
export async function declarationNotes(provenance: Provenance, eventIds: readonly string[]): Promise<(DeclarationNote | undefined)[]> {
  const declIds = eventIds.map((id) => (id.startsWith('ni:///sha-256;') ? declarationIdOf(id) : undefined));
  const wanted = declIds.filter((d): d is string => d !== undefined);
  const known = await provenance.eventsRecorded(wanted);
  return Promise.all(
    declIds.map(async (d) => {
      if (d === undefined || !known.has(d)) return undefined;
      const entry = await provenance.eventById(d);
      const ed = entry === undefined ? undefined : errorDeclarationOf(entry.event);
      if (entry === undefined || ed === undefined) return undefined;
      return { declarationId: d, txId: entry.txId, block: entry.block, ...ed };
    }),
  );
}
