import type { SubgraphContext } from '../kit/context';
import { forbidden } from '../kit/gate';
import { GRANTABLE, type Category } from '../../consent/vocabulary';

type Ctx = SubgraphContext;

/**
 * Can this request reach the patient at all? With consent to any category of their data:
 * DEMOGRAPHICS first (the usual case: one decision), then the others in turn, stopping
 * at the first permit — so a clinician granted LABS only still reaches the labs through
 * patient(id). An unknown patient has no policies but the defaults, so it is unreachable
 * exactly like a hidden one.
 */
export async function reachable(ctx: Ctx, patientId: string, categories: readonly Category[] = GRANTABLE): Promise<boolean> {
  for (const category of categories) {
    if ((await ctx.access.check(patientId, category)).allowed) return true;
  }
  return false;
}

/** The answer for a patient this request cannot reach — unknown or hidden alike. */
export const unreachablePatient = (ctx: Ctx) => forbidden(`No consent covers any data of this patient for ${ctx.identity.purpose}`, { purpose: ctx.identity.purpose });
