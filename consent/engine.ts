/**
 * The consent engine: may(subject, patient, category, action, purpose, at)?
 *
 * Casbin decides, with one small enforcer per patient built from that patient's
 * consents and the base policies — so a decision costs the same whether the hub holds
 * ten consents or ten million. Enforcers are cached, keyed by the patient's consent
 * version; every request first reads the current versions of the patients it touches
 * (one batched query), so a revoked consent is never used after `revokeConsent`
 * returned, on any replica. Redis notifications only evict caches early.
 */
import fs from 'node:fs';
import path from 'node:path';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import type { DataSource } from 'typeorm';
import { projectRoot } from '../common/paths';
import { sqlQuery } from '../common/database';
import type { Consent } from './entities';
import type { Exclusion } from './exceptions';
import { listMatch, principalMatch, within } from './matchers';
import { granteePrincipal, isDataException, policyLines } from './policy-lines';
import { loadPatientRows } from './policy-store';
import { principalString, projectPrincipal, type Principals } from './principals';
import type { Action, Category, Purpose } from './vocabulary';

export type { Exclusion } from './exceptions';

const MODEL_TEXT = fs.readFileSync(path.join(projectRoot(), 'consent', 'model.conf'), 'utf8');

export interface Decision {
  allowed: boolean;
  /** The consent or base policy that decided, e.g. `consent:cns_…` or `base:treating-institution`; `default-deny` when none matched. */
  decidedBy: string;
  /** The patient's consent version the decision was made at (the zookie). */
  version: number;
  exclusions: Exclusion[];
  /** For research: the permitting consent allows identified data. */
  identified: boolean;
}

export interface AccessRequest {
  /** The requester's principals, "|"-joined (principals.ts `principalString`). */
  principals: string;
  patientId: string;
  category: Category;
  action: Action;
  purpose: Purpose;
  at: Date;
}

/** What the engine holds per patient, valid for one consent version. */
export interface PatientPolicy {
  patientId: string;
  version: number;
  enforcer: Enforcer;
  exceptions: Consent[];
  consents: Map<string, Consent>;
}

export class ConsentEngine {
  private readonly cache = new Map<string, PatientPolicy>();

  constructor(
    readonly db: DataSource,
    private readonly maxCached = 50_000,
  ) {}

  /** Current versions of these patients (0 for a patient whose consents never changed). */
  async versions(patientIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>(patientIds.map((id) => [id, 0]));
    for (let i = 0; i < patientIds.length; i += 5000) {
      const rows = await sqlQuery<{ patient_id: string; version: number | string }>(this.db, 'SELECT patient_id, version FROM consent_version WHERE patient_id IN (:...ids)', {
        ids: patientIds.slice(i, i + 5000),
      });
      for (const r of rows) out.set(r.patient_id, Number(r.version));
    }
    return out;
  }

  /** Policies of these patients, as of now: cached ones are reused only at the current version. */
  async policies(patientIds: readonly string[]): Promise<Map<string, PatientPolicy>> {
    const unique = [...new Set(patientIds)];
    const current = await this.versions(unique);
    const out = new Map<string, PatientPolicy>();
    const stale: string[] = [];
    for (const id of unique) {
      const cached = this.cache.get(id);
      if (cached && cached.version === current.get(id)) out.set(id, cached);
      else stale.push(id);
    }
    for (let i = 0; i < stale.length; i += 2000) {
      const rows = await loadPatientRows(this.db, stale.slice(i, i + 2000));
      for (const [id, { consents, homeInstitution, breakGlass }] of rows) {
        const policy: PatientPolicy = {
          patientId: id,
          version: current.get(id)!,
          enforcer: await buildEnforcer(policyLines(id, homeInstitution, consents, breakGlass)),
          exceptions: consents.filter(isDataException),
          consents: new Map(consents.map((c) => [c.id, c])),
        };
        this.remember(policy);
        out.set(id, policy);
      }
    }
    return out;
  }

  private remember(policy: PatientPolicy): void {
    this.cache.delete(policy.patientId);
    this.cache.set(policy.patientId, policy);
    if (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Drops a patient's cached policy (a consent changed elsewhere). */
  evict(patientId: string): void {
    this.cache.delete(patientId);
  }

  decide(policy: PatientPolicy, req: AccessRequest): Decision {
    const at = req.at.toISOString();
    const [allowed, explained] = policy.enforcer.enforceExSync(req.principals, req.patientId, req.category, req.action, req.purpose, at);
    const decidedBy = explained[8] ?? 'default-deny';
    const consentId = decidedBy.startsWith('consent:') ? decidedBy.slice('consent:'.length) : null;
    const exclusions = allowed
      ? policy.exceptions
          .filter(
            (c) =>
              c.effect === 'deny' &&
              principalMatch(req.principals, granteePrincipal(c)) &&
              listMatch(req.category, c.categories) &&
              listMatch(req.action, c.actions) &&
              listMatch(req.purpose, c.purposes) &&
              within(at, c.validFrom.toISOString(), c.validUntil ? c.validUntil.toISOString() : '-'),
          )
          .map((c) => ({ consentId: c.id, loincClass: c.dataLoincClass, from: c.dataFrom, until: c.dataUntil }))
      : [];
    return {
      allowed,
      decidedBy,
      version: policy.version,
      exclusions,
      identified: allowed && consentId !== null && Boolean(policy.consents.get(consentId)?.identified),
    };
  }

  /**
   * A decision in the context of research project P (its enrolments, its cohorts): a
   * research consent opens only its own project. Allowed only if the patient's consents
   * permit project P itself (P's principal alone), AND the requester with P as their only
   * project is not denied — so a patient's "no" to the researcher in person still wins.
   * A requester who is not a member of P gets P's decision without P's principal: denied
   * unless something personal permits, which the first test then refuses anyway.
   */
  decideInProject(policy: PatientPolicy, req: Omit<AccessRequest, 'principals'>, principals: Principals, projectId: string): Decision {
    const member = principals.projects.includes(projectId);
    const byProject = this.decide(policy, { ...req, principals: member ? projectPrincipal(projectId) : '' });
    if (!byProject.allowed) return byProject;
    const asRequester = this.decide(policy, { ...req, principals: principalString(principals, { project: projectId }) });
    if (!asRequester.allowed) return asRequester;
    return { ...byProject, exclusions: uniqueExclusions([...byProject.exclusions, ...asRequester.exclusions]) };
  }

  async may(req: AccessRequest): Promise<Decision> {
    const policy = (await this.policies([req.patientId])).get(req.patientId)!;
    return this.decide(policy, req);
  }
}

function uniqueExclusions(list: Exclusion[]): Exclusion[] {
  const seen = new Set<string>();
  return list.filter((e) => !seen.has(e.consentId) && Boolean(seen.add(e.consentId)));
}

async function buildEnforcer(lines: string[][]): Promise<Enforcer> {
  const enforcer = await newEnforcer(newModelFromString(MODEL_TEXT));
  await enforcer.addFunction('principalMatch', principalMatch);
  await enforcer.addFunction('listMatch', listMatch);
  await enforcer.addFunction('within', within);
  if (lines.length) await enforcer.addPolicies(lines);
  return enforcer;
}
