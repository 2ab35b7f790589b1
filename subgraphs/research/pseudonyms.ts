/**
 * Research pseudonyms: how a project's results name a patient without naming them.
 *
 * An HMAC-SHA256 of (project, patient) keyed with a server secret (PSEUDONYM_KEY,
 * common/keys.ts). Stable within a project, so a study can follow a patient over time;
 * unlinkable across projects, and impossible to recompute from anything a client sees
 * (a key derived from the project id, as before, let anyone holding a patient list
 * re-identify a project's pseudonyms). Rotating the key changes every pseudonym: see the
 * README ("Pseudonyms").
 */
import { createHmac } from 'node:crypto';

export type Pseudonymizer = (projectId: string, patientId: string) => string;

export function pseudonymizer(secret: Buffer): Pseudonymizer {
  return (projectId, patientId) =>
    // Length-prefixed so that no (project, patient) pair can collide with another's input.
    'psn_' +
    createHmac('sha256', secret)
      .update(`custodian-pseudonym/v2\n${projectId.length}:${projectId}\n${patientId}`)
      .digest('base64url')
      .slice(0, 22);
}
