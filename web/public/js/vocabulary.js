// @ts-check
/**
 * The data categories as the portal shows them. GENERATED from consent/vocabulary.ts by
 * web/portal-vocabulary.ts: do not edit; run `node dist/web/portal-vocabulary.js --write`.
 */

/** Every data category, in declaration order. */
export const CATEGORIES = ["DEMOGRAPHICS","LABS","DEVICES","RESEARCH","CONSENT","AUDIT"];

/** The categories a patient can grant (or refuse) by consent. */
export const GRANTABLE = ["DEMOGRAPHICS","LABS","DEVICES","RESEARCH"];

/** How the portal names each category. */
export const CATEGORY_LABEL = /** @type {Record<string, string>} */ ({
  "DEMOGRAPHICS": "Personal details",
  "LABS": "Lab results",
  "DEVICES": "Devices and readings",
  "RESEARCH": "Research participation",
  "CONSENT": "Consents",
  "AUDIT": "Audit trail"
});
