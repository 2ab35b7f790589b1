/**
 * The hub's own Prometheus series, and one small function per thing worth counting, so
 * a call site is one line (`metrics.consentDecision('deny', 'LABS')`) and never builds
 * label sets itself. Every process registers all of them (a series nobody records stays
 * at zero); which process records what is in the README's "Metrics" table.
 *
 * Label values are bounded: vocabulary words, error codes, limit and limiter names, and
 * operation names through `operationLabel` (operations.ts) — never query text, ids or
 * anything else a client can vary without end.
 */
import { Counter, Histogram } from 'prom-client';

/** Seconds: GraphQL requests span a few ms (refusals) to the 10 s deadline. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: a proof is 2 SQL statements, about 1–6 ms over HTTP at 1,000,000 leaves. */
const PROOF_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export const graphqlRequestDuration = new Histogram({
  name: 'custodian_graphql_request_duration_seconds',
  help: 'Time from receiving a GraphQL request at the gateway to the end of its answer, per operation (its name, "anonymous", or "other" past the name budget)',
  labelNames: ['operation'] as const,
  buckets: REQUEST_BUCKETS,
});

export const graphqlErrors = new Counter({
  name: 'custodian_graphql_errors_total',
  help: 'Errors in GraphQL answers of the gateway, by extensions.code',
  labelNames: ['code'] as const,
});

export const consentDecisions = new Counter({
  name: 'custodian_consent_decisions_total',
  help: 'Consent decisions made by a subgraph (one per patient, category, action and project per request, as recorded to the ledger), by outcome and data category',
  labelNames: ['outcome', 'category'] as const,
});

export const rateLimitRefusals = new Counter({
  name: 'custodian_rate_limit_refusals_total',
  help: 'Requests refused with 429 RATE_LIMITED, by limiter (graphql, auth, ledger)',
  labelNames: ['limiter'] as const,
});

export const operationLimitRefusals = new Counter({
  name: 'custodian_operation_limit_refusals_total',
  help: 'GraphQL operations refused before planning with QUERY_TOO_COMPLEX, by the limit they broke',
  labelNames: ['limit'] as const,
});

export const proofDuration = new Histogram({
  name: 'custodian_ledger_proof_duration_seconds',
  help: 'Time to compute and serve a Merkle proof, by kind (inclusion, consistency) and where (http: /ledger/proof/*, audit: the audit subgraph)',
  labelNames: ['kind', 'where'] as const,
  buckets: PROOF_BUCKETS,
});

export const witnessCosignatures = new Counter({
  name: 'custodian_ledger_cosignatures_total',
  help: 'Cosignature requests to the witnesses of LEDGER_WITNESSES, by witness name and outcome (cosigned, conflict, refused, invalid, timeout, unreachable, ahead)',
  labelNames: ['witness', 'outcome'] as const,
});

/** Codes of errors whose values we count, and the one whose `limit` we count as well. */
const TOO_COMPLEX = 'QUERY_TOO_COMPLEX';
/** A code is a word of capitals; anything else (a subgraph's own oddity) is counted as OTHER. */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const LIMITS = new Set(['depth', 'aliases', 'rootFields', 'tokens', 'directives', 'fields', 'cost']);

interface ErrorLike {
  extensions?: Record<string, unknown> | null;
}

/** What call sites record; each is one line at the place the thing happens. */
export const metrics = {
  consentDecision(outcome: 'permit' | 'deny', category: string): void {
    consentDecisions.inc({ outcome, category });
  },
  rateLimited(limiter: string): void {
    rateLimitRefusals.inc({ limiter });
  },
  /** The errors of one GraphQL answer (formatted or not: only `extensions` is read). */
  graphqlErrors(errors: readonly ErrorLike[] | undefined): void {
    for (const error of errors ?? []) {
      const raw = error.extensions?.code;
      const code = typeof raw === 'string' && CODE.test(raw) ? raw : raw === undefined ? 'NONE' : 'OTHER';
      graphqlErrors.inc({ code });
      if (code !== TOO_COMPLEX) continue;
      const limit = error.extensions?.limit;
      operationLimitRefusals.inc({ limit: typeof limit === 'string' && LIMITS.has(limit) ? limit : 'other' });
    }
  },
  /** One witness's answer to one checkpoint (witness names come from configuration: bounded). */
  cosignature(witness: string, outcome: string): void {
    witnessCosignatures.inc({ witness, outcome });
  },
  /** Starts timing a proof; call the result when it is served. */
  proofTimer(kind: 'inclusion' | 'consistency', where: 'http' | 'audit'): () => void {
    return proofDuration.startTimer({ kind, where });
  },
};
