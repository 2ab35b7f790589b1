/**
 * The adapter that loads patients' policies from the consent database — Casbin's
 * "adapter" role, filtered by patient: for a batch of patients, their active consents,
 * their home institution (which the base policies name) and their break-the-glass
 * accesses, in three queries whatever the batch size. policy-lines.ts turns each
 * patient's rows into policy lines; the engine builds and caches the enforcer.
 */
import { In, type DataSource } from 'typeorm';
import { BreakGlass, Consent, PatientHome } from './entities';

/** What one patient's policies are made of. */
export interface PatientRows {
  /** Active consents, exceptions (child rows) included. */
  consents: Consent[];
  homeInstitution: string | null;
  breakGlass: BreakGlass[];
}

function byPatient<T extends { patientId: string }>(rows: T[]): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const row of rows) {
    const list = grouped.get(row.patientId);
    if (list) list.push(row);
    else grouped.set(row.patientId, [row]);
  }
  return grouped;
}

/** The rows of each of `patientIds` (a patient with none gets empty lists). */
export async function loadPatientRows(db: DataSource, patientIds: readonly string[]): Promise<Map<string, PatientRows>> {
  const ids = [...patientIds];
  const [consents, homes, glass] = await Promise.all([
    db.getRepository(Consent).findBy({ patientId: In(ids), status: 'active' }),
    db.getRepository(PatientHome).findBy({ patientId: In(ids) }),
    db.getRepository(BreakGlass).findBy({ patientId: In(ids) }),
  ]);
  const consentsBy = byPatient(consents);
  const glassBy = byPatient(glass);
  const homeBy = new Map(homes.map((h) => [h.patientId, h.institutionId]));
  return new Map(ids.map((id) => [id, { consents: consentsBy.get(id) ?? [], homeInstitution: homeBy.get(id) ?? null, breakGlass: glassBy.get(id) ?? [] }]));
}
