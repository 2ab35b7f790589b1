/**
 * Accounting of disclosures (in the spirit of HIPAA §164.528): for one patient and a
 * period, who was given which category of their data, for what purpose, how often,
 * first and last time — from the permitted access decisions in the ledger. The patient's
 * own reads are not disclosures and are left out.
 */
import type { DataSource } from 'typeorm';
import { badInput } from '../../common/errors';
import type { EventKind } from '../../ledger/core/events';
import { findLeaves } from '../../ledger/store/read-model';

/** Beyond this many accesses in one report, ask for a shorter period. */
export const MAX_REPORTED_ACCESSES = 200_000;
const CHUNK = 1_000;

export interface Recipient {
  userId: string;
  role: string | null;
  institutionId: string | null;
  practitionerId: string | null;
}

export interface DisclosureLine {
  recipient: Recipient;
  category: string;
  purpose: string;
  service: string;
  accesses: number;
  firstAt: Date;
  lastAt: Date;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export async function disclosures(ledger: DataSource, patientId: string, from: Date, to: Date): Promise<DisclosureLine[]> {
  const lines = new Map<string, DisclosureLine>();
  let seen = 0;
  let before: number | undefined;
  for (;;) {
    const leaves = await findLeaves(ledger, { patientId, kind: 'access.decision' satisfies EventKind, decision: 'permit', from, to }, CHUNK, before);
    for (const { event } of leaves) {
      const userId = str(event.subject);
      if (!userId || event.role === 'patient') continue;
      if (++seen > MAX_REPORTED_ACCESSES) throw badInput(`More than ${MAX_REPORTED_ACCESSES} accesses in this period: ask for a shorter one`, 'from');
      const recipient: Recipient = { userId, role: str(event.role), institutionId: str(event.institutionId), practitionerId: str(event.practitionerId) };
      const category = str(event.category) ?? 'UNKNOWN';
      const purpose = str(event.purpose) ?? 'UNKNOWN';
      const service = str(event.service) ?? 'unknown';
      const at = new Date(String(event.at));
      const key = JSON.stringify([userId, recipient.role, recipient.institutionId, category, purpose, service]);
      const line = lines.get(key);
      if (!line) lines.set(key, { recipient, category, purpose, service, accesses: 1, firstAt: at, lastAt: at });
      else {
        line.accesses++;
        if (at < line.firstAt) line.firstAt = at;
        if (at > line.lastAt) line.lastAt = at;
      }
    }
    if (leaves.length < CHUNK) break;
    before = leaves.at(-1)!.index;
  }
  return [...lines.values()].sort((a, b) => b.lastAt.getTime() - a.lastAt.getTime() || a.recipient.userId.localeCompare(b.recipient.userId));
}

const HEADER = ['recipient_user_id', 'recipient_role', 'institution_id', 'practitioner_id', 'category', 'purpose', 'service', 'accesses', 'first_at', 'last_at'];

/** RFC 4180 CSV, header first, CRLF line ends. */
export function disclosuresCsv(lines: readonly DisclosureLine[]): string {
  const rows = lines.map((l) => [
    l.recipient.userId,
    l.recipient.role ?? '',
    l.recipient.institutionId ?? '',
    l.recipient.practitionerId ?? '',
    l.category,
    l.purpose,
    l.service,
    String(l.accesses),
    l.firstAt.toISOString(),
    l.lastAt.toISOString(),
  ]);
  return [HEADER, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function csvField(value: string): string {
  // A cell a spreadsheet would run as a formula is defused (OWASP CSV injection).
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
