// @ts-check
/**
 * The accounting of disclosures as CSV with names: the API's `DisclosureReport.csv` has
 * ids only (the audit subgraph holds no names), so the portal writes the same rows with
 * the names the same query federated beside the ids. RFC 4180, CRLF, header first; a
 * cell a spreadsheet would run as a formula (first character = + - or at-sign, tab, CR) is defused with
 * a leading ' exactly as the server's CSV does (subgraphs/audit/disclosures.ts).
 */
import { roleWord } from './people.js';

export const DISCLOSURE_COLUMNS = [
  'recipient_user_id', 'recipient_name', 'recipient_role', 'institution_id', 'institution_name', 'practitioner_id', 'practitioner_name',
  'category', 'purpose', 'service', 'accesses', 'first_at', 'last_at',
];

/** @param {string} value */
export function csvField(value) {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * @param {any[]} lines Disclosure lines with recipient { userId role institutionId practitionerId practitioner { name { text } } institution { name } }
 * @returns {string}
 */
export function disclosuresCsv(lines) {
  const rows = lines.map((l) => {
    const r = l.recipient;
    const practitionerName = r.practitioner?.name?.text ?? '';
    return [
      r.userId, practitionerName || roleWord(r.role), r.role ?? '', r.institutionId ?? '', r.institution?.name ?? '', r.practitionerId ?? '', practitionerName,
      l.category, l.purpose, l.service, String(l.accesses), l.firstAt, l.lastAt,
    ];
  });
  return [DISCLOSURE_COLUMNS, ...rows].map((row) => row.map((v) => csvField(String(v ?? ''))).join(',')).join('\r\n') + '\r\n';
}
