/**
 * The hub's ids (`pat_<hex>`, common/ids.ts) as FHIR ids, reversibly: FHIR allows
 * [A-Za-z0-9\-.]{1,64}, not `_`, so the prefix's `_` becomes `-` (`pat-<hex>`). Here (not
 * in fhir/) because the consent mapping (consent/fhir.ts) runs in the patients subgraph
 * too, which must not import the gateway's FHIR router.
 */
const HUB_ID = /^([a-z]{2,8})_([0-9a-f]{1,56})$/;

export function toFhirId(hubId: string): string {
  const m = HUB_ID.exec(hubId);
  // Ids minted outside common/ids.ts (none today) are passed through when already valid.
  if (!m) {
    if (/^[A-Za-z0-9\-.]{1,64}$/.test(hubId)) return hubId;
    throw new Error(`Not representable as a FHIR id: ${hubId}`);
  }
  return `${m[1]}-${m[2]}`;
}
