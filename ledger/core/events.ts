/**
 * Every kind of ledger event, declared once, with the payload its writer puts in the
 * outbox. Writers are typed against it (appendToOutbox in ledger/pipeline/outbox.ts),
 * readers (the audit subgraph, the portal's kind list) use the same list.
 *
 * A payload is what the writer records; the leaf keeps only its allow-listed fields and
 * folds the rest into `payloadDigest` (leaf.ts). Vocabulary words (category, action,
 * purpose, role) are plain strings here: the ledger sits below consent/ and does not
 * import its vocabulary.
 *
 * Adding a kind: add its payload type to EventPayloads and its line to DESCRIPTIONS (the
 * compiler refuses one without the other) and to the portal's kind list in
 * web/public/js/views/compliance.js (test/ledger/core/events.test.ts checks it), then
 * write it with appendToOutbox.
 */

/** Who acted (ledger/pipeline/outbox.ts actorFields): opaque ids and vocabulary words, empty ones left out. */
export interface ActorFields {
  subject: string;
  role?: string;
  requestId?: string;
  purpose?: string;
  institutionId?: string;
  practitionerId?: string;
}

/** One consent decision of one request (subgraphs/kit/decisions.ts). */
export interface AccessDecisionPayload extends ActorFields {
  /** The request's instant; without it the outbox row's time stands in. */
  at?: string;
  service: string;
  patientId: string;
  category: string;
  action: string;
  projectId?: string;
  decision: 'permit' | 'deny';
  /** consent:<id>, base:<name>, break-glass:<id> or scope:read. */
  decidedBy: string;
  consentVersion: number;
}

/** A consent as granted or revoked (consent/consents.ts). */
export interface ConsentPayload extends ActorFields {
  patientId: string;
  consentId: string;
  /** <grantee kind>:<grantee id>. */
  granteeId: string;
  /** "|"-separated, as the consent row stores them. */
  categories: string;
  actions: string;
  purposes: string;
  effect: string;
  validFrom: string;
  validUntil: string | null;
  identified: boolean;
  /** On grants: how many exceptions came with it. */
  exceptionCount?: number;
  consentVersion: number;
}

export interface BreakGlassStartedPayload extends ActorFields {
  patientId: string;
  breakGlassId: string;
  validUntil: string;
  consentVersion: number;
  /** Free text: the leaf commits to it through payloadDigest only. */
  justification: string;
}

export interface BreakGlassReviewedPayload extends ActorFields {
  patientId: string;
  breakGlassId: string;
  /** Free text: the leaf commits to it through payloadDigest only. */
  note: string;
}

export interface UserEnrolledPayload {
  subject: string;
  role: string;
  institutionId: string | null;
  patientId: string | null;
  practitionerId: string | null;
}

export interface PasskeyPayload {
  subject: string;
  passkeyId: string;
}

export interface SessionStartedPayload {
  subject: string;
  role: string;
  sessionId: string;
}

export interface SessionEndedPayload {
  subject: string;
  sessionId: string;
}

export interface SessionRevokedPayload extends SessionEndedPayload {
  /** Why the session was revoked, e.g. refresh-token-reuse. */
  decidedBy: string;
}

export interface ApiTokenCreatedPayload {
  subject: string;
  tokenId: string;
  /** Comma-separated, as the token row stores them. */
  scopes: string;
  validUntil: string;
}

export interface ApiTokenRevokedPayload {
  subject: string;
  tokenId: string;
}

export interface DeviceRegisteredPayload extends ActorFields {
  patientId: string;
  deviceId: string;
  category: 'DEVICES';
  action: 'write';
}

/** Counts only: the readings are clinical values and stay in the devices subgraph. */
export interface ReadingsIngestedPayload extends DeviceRegisteredPayload {
  sequence: number;
  acceptedCount: number;
  duplicateCount: number;
}

/** The relay's stand-in for an outbox row that was not a valid event (ledger/pipeline/relay.ts). */
export interface OutboxRejectedPayload {
  service: string;
  rowId: string;
  rowKind: string;
  rowPayload: string;
  rowCreatedAt: string;
}

/** Kind → payload. */
export interface EventPayloads {
  'access.decision': AccessDecisionPayload;
  'consent.granted': ConsentPayload;
  'consent.revoked': ConsentPayload;
  'breakglass.started': BreakGlassStartedPayload;
  'breakglass.reviewed': BreakGlassReviewedPayload;
  'user.enrolled': UserEnrolledPayload;
  'passkey.registered': PasskeyPayload;
  'passkey.removed': PasskeyPayload;
  'session.started': SessionStartedPayload;
  'session.ended': SessionEndedPayload;
  'session.revoked': SessionRevokedPayload;
  'apitoken.created': ApiTokenCreatedPayload;
  'apitoken.revoked': ApiTokenRevokedPayload;
  'device.registered': DeviceRegisteredPayload;
  'readings.ingested': ReadingsIngestedPayload;
  'outbox.rejected': OutboxRejectedPayload;
}

export type EventKind = keyof EventPayloads;
export type EventPayload<K extends EventKind> = EventPayloads[K];

/** An event as a writer hands it to the outbox: a declared kind with its payload. */
export type OutboxEventInput = { [K in EventKind]: { kind: K; payload: EventPayload<K> } }[EventKind];

/** Every kind with what it records. A mapped type: a kind missing here, or one not declared above, does not compile. */
const DESCRIPTIONS: { readonly [K in EventKind]: string } = {
  'access.decision': 'a consent decision (permit or deny) on one patient, category and action, in one request',
  'consent.granted': 'a patient granted a consent',
  'consent.revoked': 'a patient revoked a consent',
  'breakglass.started': 'a clinician opened an emergency access outside consent',
  'breakglass.reviewed': 'compliance reviewed an emergency access',
  'user.enrolled': 'a user enrolled with an invitation code',
  'passkey.registered': 'a user registered a passkey',
  'passkey.removed': 'a user removed a passkey',
  'session.started': 'a user signed in',
  'session.ended': 'a user signed out',
  'session.revoked': 'a session was revoked (a refresh token was reused)',
  'apitoken.created': 'a user created an API token',
  'apitoken.revoked': 'a user revoked an API token',
  'device.registered': 'a device was registered to a patient',
  'readings.ingested': 'a device bridge delivered readings (counts only)',
  'outbox.rejected': 'the relay found an outbox row that is not a valid event',
};

/** Every declared kind, in the order above. */
export const EVENT_KINDS: readonly EventKind[] = Object.keys(DESCRIPTIONS) as EventKind[];
