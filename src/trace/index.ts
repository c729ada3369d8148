/** Public API of the trace module: EPCIS 2.0 validation, CBV 2.0 event IDs, identifiers, roles, item status. */
export { TraceError, isTraceError, type TraceErrorCode, type TraceProblem } from './errors.js';
export {
  documentEventHashes,
  eventHash,
  eventPrehash,
  eventsOfDocument,
  hashContextOf,
  hashPrehash,
  prefixesOfContext,
  EMPTY_HASH_CONTEXT,
  type HashContext,
} from './event-hash.js';
export type { JsonObject } from '../common/json.js';
export {
  canonicalItemKey,
  checkedKeyDigits,
  companyPrefixOf,
  digitalLinkToEpcUrn,
  encodeDigitalLinkValue,
  gs1CheckDigit,
  hasValidCheckDigit,
  itemKeyInfo,
  normaliseGs1Uri,
  parseDigitalLink,
  parseEpcUrn,
  type EpcScheme,
  type ItemKeyInfo,
  type ParsedDigitalLink,
  type ParsedEpc,
} from './identifiers.js';
export { formatUtcMillis, hashTimestamp, parseOffset, parseTime, type ParsedTime } from './epcis-time.js';
export { cbvWord, resolveVocabulary, vocabularyWords, type VocabularyKind, type VocabularyResolution } from './vocabulary.js';
export {
  checkEventRules,
  validateDocument,
  DEFAULT_MAX_EVENTS,
  EVENT_TYPES,
  type EventType,
  type ValidateOptions,
  type ValidatedDocument,
} from './epcis-validate.js';
export {
  eventIdOf,
  prepareDocument,
  selfContainedEvent,
  verifyEventIds,
  EPCIS_CONTEXT_URL,
  type PrepareOptions,
  type PreparedDocument,
} from './document.js';
export {
  applyDeclaration,
  declarationIdOf,
  declaredEventIdOf,
  errorDeclarationOf,
  isErrorDeclaration,
  recordIdOf,
  type ErrorDeclarationInfo,
} from './correction.js';
export { actionsOf, eventFacts, BIZSTEP_ACTIONS, type EventFacts, type TraceAction } from './actions.js';
export { checkRole, roleProblems, ruleFor, ROLE_RULES, type RoleContext, type RoleRule } from './roles.js';
export {
  applyEvent,
  effectiveStatus,
  lotOfClass,
  MAX_ALERTS,
  type ItemAlert,
  type ItemRecord,
  type ItemStateReader,
  type ItemStatus,
  type StatusInput,
  type StatusOutput,
} from './status.js';
export {
  classKeysOf,
  comparePositions,
  journeyPage,
  justBefore,
  linksOfEvent,
  roleOfKind,
  JourneyIndexError,
  MAX_LINKED_ITEMS,
  type HistoryRef,
  type JourneyOptions,
  type JourneyPage,
  type JourneyReader,
  type JourneyStep,
  type Link,
  type LinkKind,
  type LinkRecord,
  type LinkRole,
  type Position,
  type RoleLinkRecord,
} from './journey.js';
