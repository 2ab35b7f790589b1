/**
 * What an Observation says, apart from whose it is: the codes (LOINC, UCUM, HL7
 * interpretation and category), a lab result's and a device reading's content, and the
 * `code`/`category` search values. Shared by the patient's observations (observation.ts)
 * and a research subject's (research-observation.ts), which frame it differently.
 */
import type { Resource } from '../resource';
import { INTERPRETATION, LOINC, OBSERVATION_CATEGORY, quantity } from '../terminology';
import { invalid } from '../outcome';

export interface LabNode {
  id: string;
  code: { code: string; display: string };
  value: number;
  unit: string;
  referenceRange: { low: number | null; high: number | null; unit: string } | null;
  interpretation: keyof typeof INTERPRETATION_CODES;
  status: string;
  effectiveAt: string;
  issuer: { id: string };
}
export interface ReadingNode {
  id: string;
  metric: keyof typeof METRIC_CODES;
  value: number;
  unit: string;
  recordedAt: string;
}

export const INTERPRETATION_CODES = { LOW: 'L', NORMAL: 'N', HIGH: 'H', CRITICALLY_LOW: 'LL', CRITICALLY_HIGH: 'HH' } as const;

/**
 * Device metrics as LOINC vital-sign codes. SpO2 carries 2708-6 (what the R4 vital-signs
 * profile requires) and 59408-5 (by pulse oximetry, how it was measured). Glucose comes
 * from continuous monitors, which measure interstitial fluid in mg/dL: 99504-3 (Glucose
 * [Mass/volume] in Interstitial fluid), not 2339-0 (blood) or 15074-8 (moles/volume).
 */
export const METRIC_CODES = {
  HEART_RATE: [{ code: '8867-4', display: 'Heart rate' }],
  SPO2: [
    { code: '2708-6', display: 'Oxygen saturation in Arterial blood' },
    { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' },
  ],
  GLUCOSE: [{ code: '99504-3', display: 'Glucose [Mass/volume] in Interstitial fluid' }],
} as const;
export const METRIC_BY_CODE = new Map<string, string>(Object.entries(METRIC_CODES).flatMap(([metric, codes]) => codes.map((c) => [c.code, metric])));

const category = (code: 'laboratory' | 'vital-signs', display: string) => [{ coding: [{ system: OBSERVATION_CATEGORY, code, display }], text: display }];

/** A lab result's clinical content as an Observation, without id, subject or performer. */
export function labContent(r: Omit<LabNode, 'id' | 'issuer'>): Resource {
  const range = r.referenceRange;
  return {
    resourceType: 'Observation',
    status: r.status.toLowerCase(),
    category: category('laboratory', 'Laboratory'),
    code: { coding: [{ system: LOINC, code: r.code.code, display: r.code.display }], text: r.code.display },
    effectiveDateTime: r.effectiveAt,
    valueQuantity: quantity(r.value, r.unit),
    interpretation: [{ coding: [{ system: INTERPRETATION, code: INTERPRETATION_CODES[r.interpretation] }] }],
    ...(range && (range.low != null || range.high != null)
      ? { referenceRange: [{ ...(range.low != null ? { low: quantity(range.low, range.unit) } : {}), ...(range.high != null ? { high: quantity(range.high, range.unit) } : {}) }] }
      : {}),
  };
}

/** A device reading's content as an Observation, without id, subject or device. */
export function readingContent(r: Omit<ReadingNode, 'id'>): Resource {
  const codes = METRIC_CODES[r.metric];
  return {
    resourceType: 'Observation',
    status: 'final',
    category: category('vital-signs', 'Vital Signs'),
    code: { coding: codes.map((c) => ({ system: LOINC, code: c.code, display: c.display })), text: codes[0].display },
    effectiveDateTime: r.recordedAt,
    valueQuantity: quantity(r.value, r.unit),
  };
}

export function parseCode(value: string | undefined): { loinc?: string; none?: true } {
  if (value === undefined) return {};
  const bar = value.indexOf('|');
  if (bar < 0) return { loinc: value };
  const system = value.slice(0, bar);
  // A code of another system matches nothing here (not an error: the search is valid).
  if (system !== '' && system !== LOINC) return { none: true };
  return { loinc: value.slice(bar + 1) };
}

export function parseCategory(value: string | undefined): { labs: boolean; vitals: boolean } {
  if (value === undefined) return { labs: true, vitals: true };
  const code = value.replace(new RegExp(`^${OBSERVATION_CATEGORY.replace(/[.]/g, '\\.')}\\|`), '');
  if (code === 'laboratory') return { labs: true, vitals: false };
  if (code === 'vital-signs') return { labs: false, vitals: true };
  if (code.includes('|')) return { labs: false, vitals: false };
  throw invalid(`category "${value}" is not one this server holds (laboratory, vital-signs)`);
}
