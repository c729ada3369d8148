/**
 * What an EPCIS event does to the items it names, in this project's terms: the business action
 * (commission, pack, ship, receive, dispense, recall, …) and the identifiers it acts on. Shared by
 * the role rules and the item status machine.
 */
import { isObject, type JsonObject } from '../common/json.js';
import { cbvWord, type PrefixMap } from './vocabulary.js';
import { prefixesOfContext } from './event-hash.js';

export type TraceAction = 'commission' | 'decommission' | 'destroy' | 'recall' | 'pack' | 'unpack' | 'ship' | 'receive' | 'dispense' | 'observe';

/** CBV bizStep word → action. Words not listed (and extension URIs) fall back to type/action. */
export const BIZSTEP_ACTIONS: Readonly<Record<string, TraceAction>> = {
  commissioning: 'commission',
  encoding: 'commission',
  creating_class_instance: 'commission',
  decommissioning: 'decommission',
  killing: 'decommission',
  destroying: 'destroy',
  packing: 'pack',
  assembling: 'pack',
  repackaging: 'pack',
  unpacking: 'unpack',
  disassembling: 'unpack',
  shipping: 'ship',
  departing: 'ship',
  void_shipping: 'ship',
  receiving: 'receive',
  arriving: 'receive',
  accepting: 'receive',
  dispensing: 'dispense',
  retail_selling: 'dispense',
  // Observation only: they change no custody or lifecycle state.
  inspecting: 'observe',
  storing: 'observe',
  holding: 'observe',
  stocking: 'observe',
  staging_outbound: 'observe',
  picking: 'observe',
  loading: 'observe',
  unloading: 'observe',
  transporting: 'observe',
  cycle_counting: 'observe',
  stock_taking: 'observe',
  sampling: 'observe',
  sensor_reporting: 'observe',
  entering_exiting: 'observe',
  collecting: 'observe',
  consigning: 'observe',
  reserving: 'observe',
  installing: 'observe',
  removing: 'observe',
  replacing: 'observe',
  repairing: 'observe',
  other: 'observe',
};


function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function classes(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const q of v) if (isObject(q) && typeof q['epcClass'] === 'string') out.push(q['epcClass']);
  return out;
}

export interface EventFacts {
  type: string;
  action: string | undefined;
  bizStep: string | undefined;
  disposition: string | undefined;
  /** The business action the event's bizStep (or type/action when it has none) stands for. */
  primary: TraceAction;
  /** True when the disposition is `recalled` (a recall, whatever the bizStep). */
  recall: boolean;
  parentID: string | undefined;
  /** Instance EPCs acted on (epcList, childEPCs; outputs of a transformation). */
  epcs: string[];
  /** Inputs of a transformation (consumed). */
  inputs: string[];
  /** EPC classes (LGTINs, GTIN patterns) in quantity lists. */
  classes: string[];
}

/** The action of an event without a (standard) bizStep, from its type and action. */
function fallbackAction(type: string, action: string | undefined): TraceAction {
  if (type === 'ObjectEvent') return action === 'ADD' ? 'commission' : action === 'DELETE' ? 'decommission' : 'observe';
  if (type === 'AggregationEvent') return action === 'ADD' ? 'pack' : action === 'DELETE' ? 'unpack' : 'observe';
  // An AssociationEvent links assets (a sensor, a returnable asset) to an object: no custody change.
  if (type === 'TransformationEvent') return 'commission';
  return 'observe';
}

export function eventFacts(event: JsonObject, prefixes?: PrefixMap): EventFacts {
  const pfx = prefixes ?? (event['@context'] !== undefined ? prefixesOfContext(event['@context']) : undefined);
  const type = typeof event['type'] === 'string' ? event['type'] : '';
  const action = typeof event['action'] === 'string' ? event['action'] : undefined;
  const bizStep = cbvWord('bizStep', event['bizStep'], pfx);
  const disposition = cbvWord('disposition', event['disposition'], pfx);
  let primary = bizStep !== undefined ? (BIZSTEP_ACTIONS[bizStep] ?? fallbackAction(type, action)) : fallbackAction(type, action);
  // An AggregationEvent's action says more than a generic bizStep: ADD packs, DELETE unpacks.
  if (type === 'AggregationEvent' && (primary === 'observe' || primary === 'pack' || primary === 'unpack')) {
    if (action === 'ADD') primary = 'pack';
    else if (action === 'DELETE') primary = 'unpack';
  }
  if (disposition === 'destroyed' && primary === 'observe') primary = 'destroy';
  const parentID = typeof event['parentID'] === 'string' ? event['parentID'] : undefined;
  const isTransformation = type === 'TransformationEvent';
  return {
    type,
    action,
    bizStep,
    disposition,
    primary,
    recall: disposition === 'recalled',
    parentID,
    epcs: isTransformation ? strings(event['outputEPCList']) : [...strings(event['epcList']), ...strings(event['childEPCs'])],
    inputs: isTransformation ? strings(event['inputEPCList']) : [],
    classes: isTransformation
      ? classes(event['outputQuantityList'])
      : [...classes(event['quantityList']), ...classes(event['childQuantityList'])],
  };
}

/** Every action an event performs (its primary action, plus `recall` when it recalls). */
export function actionsOf(f: EventFacts): TraceAction[] {
  return f.recall && f.primary !== 'recall' ? [f.primary, 'recall'] : [f.primary];
}
