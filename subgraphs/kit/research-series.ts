/**
 * What the research series (ResearchSubject.labResults in labs, .readings in devices)
 * share: the subject as the research subgraph hands it over, the period arguments, and
 * what they need from the pseudonym secret (PSEUDONYM_KEY, which the research subgraph
 * holds too):
 *
 *   pseudonym  labs and devices recompute a subject's pseudonym from the patient id the
 *              gateway hands them and refuse a pair that does not match — a check that
 *              does not trust the research subgraph (or the query plan) to have paired them;
 *   cursors    the series' cursors are sealed (sealed-cursors.ts), so no cursor shows a
 *              row id that would lead back to the patient.
 *
 * Loaded as the research subgraph loads it: PSEUDONYM_KEY, else DATA_DIR/keys/pseudonym.key.
 * A labs or devices process started with another key answers every subject NOT_FOUND
 * (fails closed); `custodian start` gives every process the same one.
 */
import type { Env } from '../../common/config';
import { badInput, notFound } from '../../common/errors';
import type { PageArgs } from '../../common/pagination';
import type { Filter } from './child-pages';
import { loadPseudonymKey } from '../../common/keys';
import { pseudonymizer, type Pseudonymizer } from '../research/pseudonyms';
import { cursorSeal, type CursorSeal } from './sealed-cursors';

export interface ResearchSecrets {
  pseudonym: Pseudonymizer;
  cursors: CursorSeal;
}

export function researchSecrets(env: Pick<Env, 'DATA_DIR' | 'PSEUDONYM_KEY'>): ResearchSecrets {
  const secret = loadPseudonymKey(env.DATA_DIR, env.PSEUDONYM_KEY ? { PSEUDONYM_KEY: env.PSEUDONYM_KEY } : {});
  return { pseudonym: pseudonymizer(secret), cursors: cursorSeal(secret) };
}

export interface SubjectRef {
  projectId: string;
  pseudonym: string;
  patientId: string;
}

export interface SeriesArgs extends PageArgs {
  from?: Date | null;
  to?: Date | null;
}

/** The subject's pseudonym must be its patient's in its project, or it is no subject at all. */
export function requirePairing(secrets: ResearchSecrets, s: SubjectRef): void {
  if (!s.patientId || secrets.pseudonym(s.projectId, s.patientId) !== s.pseudonym) throw notFound('ResearchSubject', s.pseudonym);
}

/** `from`/`to` as filters over `column`: [from, to). */
export function periodFilters(args: SeriesArgs, column: string): Filter[] {
  if (args.from && args.to && args.from >= args.to) throw badInput('`from` must be before `to`', 'to');
  const filters: Filter[] = [];
  if (args.from) filters.push({ sql: `${column} >= :seriesFrom`, params: { seriesFrom: args.from.toISOString() } });
  if (args.to) filters.push({ sql: `${column} < :seriesTo`, params: { seriesTo: args.to.toISOString() } });
  return filters;
}

