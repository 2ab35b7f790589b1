/**
 * Per request: the consent decisions this request needed, made once each and kept.
 *
 * `check(patient, category, action, scope)` answers from the consent engine; all
 * patients touched in one tick share one version check and one policy load. A read
 * needs the token's `read` scope as well as consent: a token without it (an ingest-only
 * device bridge) is refused every read, whatever path it takes (`scope:read`). Every
 * decision — permit and deny — is recorded with who asked, for what, why, what decided,
 * and the consent version (the zookie); `flush()` hands them to the outbox when the
 * request ends.
 *
 * Traces (common/tracing.ts): one `consent.decide` span per batch of patients decided in
 * the same tick (one policy load), with the count — not a span per decision: a list of
 * patients makes hundreds of decisions, and a span each would cost more than deciding.
 * The request's permit and deny counts are on its `outbox.write` span
 * (record-decisions.ts). No patient id goes into a span.
 */
import DataLoader from 'dataloader';
import type { Identity } from '../../common/signed-identity';
import type { ConsentEngine, Decision, PatientPolicy } from '../../consent/engine';
import { principalsOf, principalString, type PrincipalScope, type Principals } from '../../consent/principals';
import type { Action, Category } from '../../consent/vocabulary';
import { actorFields } from '../../ledger/pipeline/outbox';
import { metrics } from '../../common/metrics/series';
import { inSpan } from '../../common/tracing';
import type { GroupCommit } from './group-commit';

export interface RecordedDecision {
  patientId: string;
  category: Category;
  action: Action;
  /** The research project whose context the decision was made in, if any. */
  projectId: string | null;
  decision: Decision;
}

/** What decides a read made without the `read` scope. */
export const MISSING_READ_SCOPE = 'scope:read';

const scopeKey = (scope: PrincipalScope) => (typeof scope === 'string' ? scope : `project:${scope.project}`);

export class Access {
  private principals?: Promise<Principals>;
  private readonly policies: DataLoader<string, PatientPolicy>;
  private readonly decided = new Map<string, RecordedDecision>();
  private readonly pending = new Map<string, Promise<Decision>>();
  readonly at = new Date();

  constructor(
    private readonly engine: ConsentEngine,
    readonly identity: Identity,
    private readonly service: string,
  ) {
    this.policies = new DataLoader((ids) =>
      inSpan('consent.decide', { attributes: { 'custodian.subgraph': service, 'custodian.consent.patients': ids.length } }, async () => {
        const map = await engine.policies(ids);
        return ids.map((id) => map.get(id)!);
      }),
    );
  }

  /** The requester's principals (one query for their project memberships, once per request). */
  principalSet(): Promise<Principals> {
    this.principals ??= principalsOf(this.engine.db, this.identity);
    return this.principals;
  }

  /** Is the requester a member of research project `projectId`? */
  async memberOf(projectId: string): Promise<boolean> {
    return (await this.principalSet()).projects.includes(projectId);
  }

  /** A decision already made in this request, without waiting (the hot path of field gates). */
  known(patientId: string, category: Category, action: Action = 'read', scope: PrincipalScope = 'all'): Decision | undefined {
    return this.decided.get(`${patientId}|${category}|${action}|${scopeKey(scope)}`)?.decision;
  }

  /** The decision for `patientId`'s `category`, made once per request and recorded. */
  check(patientId: string, category: Category, action: Action = 'read', scope: PrincipalScope = 'all'): Promise<Decision> {
    // Without projects, "personal" is "all": one decision (and one ledger event), not two.
    if (scope === 'personal') return this.principalSet().then((p) => this.check(patientId, category, action, p.projects.length ? 'personal' : 'all'));
    const key = `${patientId}|${category}|${action}|${scopeKey(scope)}`;
    const done = this.decided.get(key);
    if (done) return Promise.resolve(done.decision);
    let pending = this.pending.get(key);
    if (!pending) {
      pending = (async () => {
        const [principals, policy] = await Promise.all([this.principalSet(), this.policies.load(patientId)]);
        const decision = this.decide(policy, principals, patientId, category, action, scope);
        this.decided.set(key, { patientId, category, action, projectId: typeof scope === 'string' ? null : scope.project, decision });
        metrics.consentDecision(decision.allowed ? 'permit' : 'deny', category);
        return decision;
      })();
      this.pending.set(key, pending);
    }
    return pending;
  }

  private decide(policy: PatientPolicy, principals: Principals, patientId: string, category: Category, action: Action, scope: PrincipalScope): Decision {
    if (action === 'read' && !this.identity.scopes.includes('read')) {
      return { allowed: false, decidedBy: MISSING_READ_SCOPE, version: policy.version, exclusions: [], identified: false };
    }
    const req = { patientId, category, action, purpose: this.identity.purpose, at: this.at };
    if (typeof scope !== 'string') return this.engine.decideInProject(policy, req, principals, scope.project);
    return this.engine.decide(policy, { ...req, principals: principalString(principals, scope) });
  }

  /** Decides for many patients at once; returns those allowed. */
  async allowed(patientIds: readonly string[], category: Category, action: Action = 'read', scope: PrincipalScope = 'all'): Promise<string[]> {
    const decisions = await Promise.all(patientIds.map((id) => this.check(id, category, action, scope)));
    return patientIds.filter((_, i) => decisions[i]!.allowed);
  }

  decisions(): RecordedDecision[] {
    return [...this.decided.values()];
  }

  /** Writes this request's decisions to the outbox, one event per patient, category, action and project. */
  async flush(writer: GroupCommit): Promise<void> {
    // Who asked, as every event names its actor — including the recipient's institution
    // and practitioner ids, for the accounting of disclosures.
    const actor = actorFields(this.identity);
    const at = this.at.toISOString();
    await writer.write(
      this.decisions().map((d) => ({
        kind: 'access.decision',
        payload: {
          ...actor,
          at,
          service: this.service,
          patientId: d.patientId,
          category: d.category,
          action: d.action,
          ...(d.projectId ? { projectId: d.projectId } : {}),
          decision: d.decision.allowed ? 'permit' : 'deny',
          decidedBy: d.decision.decidedBy,
          consentVersion: d.decision.version,
        },
      })),
    );
  }
}
