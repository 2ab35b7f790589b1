/**
 * Per request: the consent decisions this request needed, made once each and kept.
 *
 * `check(patient, category, action)` answers from the consent engine; all patients
 * touched in one tick share one version check and one policy load. Every decision —
 * permit and deny — is recorded with who asked, for what, why, what decided, and the
 * consent version (the zookie); `flush()` hands them to the outbox when the request
 * ends.
 */
import DataLoader from 'dataloader';
import type { Identity } from '../../common/identity';
import { principalsOf, type ConsentEngine, type Decision, type PatientPolicy } from '../../policies/engine';
import type { Action, Category } from '../../policies/vocabulary';
import type { GroupCommit } from './group-commit';

export interface RecordedDecision {
  patientId: string;
  category: Category;
  action: Action;
  decision: Decision;
}

export class Access {
  private principals?: Promise<string>;
  private readonly policies: DataLoader<string, PatientPolicy>;
  private readonly decided = new Map<string, Decision>();
  private readonly pending = new Map<string, Promise<Decision>>();
  readonly at = new Date();

  constructor(
    private readonly engine: ConsentEngine,
    readonly identity: Identity,
    private readonly service: string,
  ) {
    this.policies = new DataLoader(async (ids) => {
      const map = await engine.policies(ids);
      return ids.map((id) => map.get(id)!);
    });
  }

  principalString(): Promise<string> {
    this.principals ??= principalsOf(this.engine.db, this.identity);
    return this.principals;
  }

  /** A decision already made in this request, without waiting (the hot path of field gates). */
  known(patientId: string, category: Category, action: Action = 'read'): Decision | undefined {
    return this.decided.get(`${patientId}|${category}|${action}`);
  }

  check(patientId: string, category: Category, action: Action = 'read'): Promise<Decision> {
    const key = `${patientId}|${category}|${action}`;
    const done = this.decided.get(key);
    if (done) return Promise.resolve(done);
    let pending = this.pending.get(key);
    if (!pending) {
      pending = (async () => {
        const [principals, policy] = await Promise.all([this.principalString(), this.policies.load(patientId)]);
        const decision = this.engine.decide(policy, { principals, patientId, category, action, purpose: this.identity.purpose, at: this.at });
        this.decided.set(key, decision);
        return decision;
      })();
      this.pending.set(key, pending);
    }
    return pending;
  }

  /** Decides for many patients at once; returns those allowed. */
  async allowed(patientIds: readonly string[], category: Category, action: Action = 'read'): Promise<string[]> {
    const decisions = await Promise.all(patientIds.map((id) => this.check(id, category, action)));
    return patientIds.filter((_, i) => decisions[i]!.allowed);
  }

  decisions(): RecordedDecision[] {
    return [...this.decided.entries()].map(([key, decision]) => {
      const [patientId, category, action] = key.split('|') as [string, Category, Action];
      return { patientId, category, action, decision };
    });
  }

  /** Writes this request's decisions to the outbox, one event per patient, category and action. */
  async flush(writer: GroupCommit): Promise<void> {
    const { identity } = this;
    await writer.write(
      this.decisions().map((d) => ({
        kind: 'access.decision',
        payload: {
          at: this.at.toISOString(),
          service: this.service,
          requestId: identity.requestId,
          subject: identity.subject,
          role: identity.role,
          // Who the recipient is, for the accounting of disclosures (ids only; absent when null).
          ...(identity.institutionId ? { institutionId: identity.institutionId } : {}),
          ...(identity.practitionerId ? { practitionerId: identity.practitionerId } : {}),
          patientId: d.patientId,
          category: d.category,
          action: d.action,
          purpose: identity.purpose,
          decision: d.decision.allowed ? 'permit' : 'deny',
          decidedBy: d.decision.decidedBy,
          consentVersion: d.decision.version,
        },
      })),
    );
  }
}
