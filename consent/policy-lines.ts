/**
 * Consents → Casbin policy lines, for one patient: the base policies (base-policies.ts)
 * instantiated for this patient, each active break-the-glass access, and each active
 * consent. Exceptions that narrow data (one LOINC class, a period) are not lines: they
 * become row exclusions (exceptions.ts), because lists are filtered inside the query.
 */
import { BASE_POLICIES, basePrincipal, listField } from './base-policies';
import type { BreakGlass, Consent } from './entities';
import { categoriesWhere } from './vocabulary';

export type PolicyLine = [sub: string, pat: string, cat: string, act: string, pur: string, from: string, until: string, eft: 'allow' | 'deny', id: string];

const OPEN = '-';
const iso = (d: Date | null) => (d ? d.toISOString() : OPEN);

/** What a break-the-glass access opens: read, for EMERGENCY, until it expires. */
const BREAK_GLASS_CATEGORIES = categoriesWhere((t) => t.breakGlass);

export function granteePrincipal(c: Pick<Consent, 'granteeKind' | 'granteeId'>): string {
  return `${c.granteeKind}:${c.granteeId}`;
}

export function isDataException(c: Consent): boolean {
  return Boolean(c.dataLoincClass || c.dataFrom || c.dataUntil);
}

export function policyLines(patientId: string, homeInstitution: string | null, consents: Consent[], breakGlass: BreakGlass[]): PolicyLine[] {
  const lines: PolicyLine[] = [];
  for (const base of BASE_POLICIES) {
    const sub = basePrincipal(base.subject, { id: patientId, homeInstitution });
    if (sub) lines.push([sub, patientId, listField(base.categories), listField(base.actions), listField(base.purposes), OPEN, OPEN, 'allow', base.id]);
  }
  for (const b of breakGlass) {
    lines.push([`user:${b.userId}`, patientId, BREAK_GLASS_CATEGORIES.join('|'), 'read', 'EMERGENCY', iso(b.startedAt), iso(b.expiresAt), 'allow', `break-glass:${b.id}`]);
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
