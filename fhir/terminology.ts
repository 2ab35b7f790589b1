/** Code systems and codes the mappings use, named once. */
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
/** The hub's data categories and purposes of use as codes: named once, in the consent mapping. */
export { DATA_CATEGORY } from '../consent/fhir';
import { PURPOSE_CODES as BY_PURPOSE } from '../consent/fhir';
export const PURPOSE_CODES: Record<string, string> = BY_PURPOSE;

/** A UCUM quantity: the hub's units are UCUM codes already (common/loinc.ts, devices/metrics.ts). */
export const quantity = (value: number, unit: string) => ({ value, unit, system: UCUM, code: unit });

/** `Type/id` for a hub id. */
export const ref = (type: string, fhirId: string) => ({ reference: `${type}/${fhirId}` });
