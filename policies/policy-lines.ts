/**
 * Consents → Casbin policy lines, for one patient. Besides the patient's own consents,
 * every patient gets the institution-level base policies:
 *
 *   base:patient-self          the patient reads and writes everything of their own
 *   base:treating-institution  clinicians of the patient's home institution, for TREATMENT
 *   base:compliance-audit      compliance officers read the audit trail (never clinical data)
 *   break-glass:<id>           a clinician's declared emergency, time-boxed, for EMERGENCY
 *
 * Exceptions that narrow data (one LOINC class, a range of dates) are not lines: they
 * become row filters (see engine.ts), because lists are filtered inside the query.
 */
import type { BreakGlass, Consent } from './entities';

export type PolicyLine = [sub: string, pat: string, cat: string, act: string, pur: string, from: string, until: string, eft: 'allow' | 'deny', id: string];

const OPEN = '-';
const iso = (d: Date | null) => (d ? d.toISOString() : OPEN);

export function granteePrincipal(c: Pick<Consent, 'granteeKind' | 'granteeId'>): string {
  return `${c.granteeKind}:${c.granteeId}`;
}

export function isDataException(c: Consent): boolean {
  return Boolean(c.dataLoincClass || c.dataFrom || c.dataUntil);
}

export function policyLines(patientId: string, homeInstitution: string | null, consents: Consent[], breakGlass: BreakGlass[]): PolicyLine[] {
  const lines: PolicyLine[] = [[`patient:${patientId}`, patientId, '*', 'read|write', '*', OPEN, OPEN, 'allow', 'base:patient-self']];
  if (homeInstitution) {
    lines.push([`role:clinician@${homeInstitution}`, patientId, 'DEMOGRAPHICS|LABS|DEVICES|RESEARCH', 'read|write', 'TREATMENT', OPEN, OPEN, 'allow', 'base:treating-institution']);
  }
  lines.push(['role:compliance@*', patientId, 'AUDIT', 'read', 'OPERATIONS', OPEN, OPEN, 'allow', 'base:compliance-audit']);
  for (const b of breakGlass) {
    lines.push([`user:${b.userId}`, patientId, 'DEMOGRAPHICS|LABS|DEVICES', 'read', 'EMERGENCY', iso(b.startedAt), iso(b.expiresAt), 'allow', `break-glass:${b.id}`]);
  }
  for (const c of consents) {
    if (c.status !== 'active' || isDataException(c)) continue;
    lines.push([
      granteePrincipal(c),
      patientId,
      c.categories,
      c.actions,
      c.purposes,
      iso(c.validFrom),
      iso(c.validUntil),
      c.effect === 'permit' ? 'allow' : 'deny',
      `consent:${c.id}`,
    ]);
  }
  return lines;
}
