// @ts-check
/**
 * People on the compliance screens: an actor (a user in a role, at an institution, as a
 * practitioner record) shown by name, with the ids behind a <details> (keyboard and
 * screen-reader reachable) and on hover. Names come from the API's federated
 * Practitioner and Institution (public staff directory). A patient is shown by id only:
 * a patient's name is DEMOGRAPHICS, which the compliance role's base policy
 * (base:compliance-audit, AUDIT only) does not open — the page never asks for it.
 */
import { h } from '../dom.js';

/** The actor fields every compliance query asks for (AuditActor). */
export const ACTOR_FIELDS = 'userId role institutionId practitionerId practitioner { name { text } role } institution { name }';

const ROLE_WORDS = /** @type {Record<string, string>} */ ({
  clinician: 'Clinician',
  researcher: 'Researcher',
  compliance: 'Compliance officer',
  patient: 'Patient',
  admin: 'Administrator',
  device: 'Device',
});

/** @param {string | null | undefined} role */
export const roleWord = (role) => (role ? ROLE_WORDS[role.toLowerCase()] ?? role : 'Unknown role');

/**
 * @typedef {{ userId: string, role?: string | null, institutionId?: string | null, practitionerId?: string | null,
 *   practitioner?: { name?: { text?: string | null } | null, role?: string | null } | null,
 *   institution?: { name?: string | null } | null }} Actor
 */

/** The actor's name as a person would say it: the practitioner's name, else the role. @param {Actor} a */
export function actorName(a) {
  return a.practitioner?.name?.text || roleWord(a.role);
}

/** "Clinician at St Mary's" (the role, and where). @param {Actor} a */
export function actorRole(a) {
  const where = a.institution?.name;
  return where ? `${roleWord(a.role)} at ${where}` : roleWord(a.role);
}

/**
 * Ids as a disclosure: what the name stands for, copyable.
 * @param {Array<[string, string | null | undefined]>} ids
 */
export function idDetails(ids) {
  const present = ids.filter(([, id]) => id);
  if (!present.length) return null;
  return h('details', { class: 'ids' }, h('summary', {}, 'Ids'),
    h('dl', {}, present.flatMap(([label, id]) => [h('dt', {}, label), h('dd', {}, h('code', {}, /** @type {string} */ (id)))])));
}

/** @param {Actor} a */
const actorIds = (a) => /** @type {Array<[string, string | null | undefined]>} */ ([['User', a.userId], ['Practitioner', a.practitionerId], ['Institution', a.institutionId]]);

/** An actor by name, role and institution; ids on hover and in a <details>. @param {Actor | null | undefined} a */
export function actorCell(a) {
  if (!a) return '—';
  const title = actorIds(a).filter(([, id]) => id).map(([l, id]) => `${l} ${id}`).join(' · ');
  return [
    h('span', { class: 'person', title, 'data-user-id': a.userId }, actorName(a)),
    h('div', { class: 'hint' }, actorRole(a)),
    idDetails(actorIds(a)),
  ];
}

/** A patient by id: their name is not the compliance role's to see (see above). @param {string | null | undefined} id */
export function patientCell(id) {
  if (!id) return '—';
  return [h('span', { class: 'person', title: `Patient ${id}` }, 'Patient'), h('div', {}, h('code', {}, id))];
}
