/**
 * LOINC codes the hub knows by name, with their UCUM units and adult reference ranges,
 * and the LOINC check-digit rule (a mod-10 scheme) used to refuse mistyped codes.
 */

export const LOINC_SYSTEM = 'http://loinc.org';

export interface LoincTest {
  code: string;
  display: string;
  /** The LOINC class (CHEM chemistry, HEM/BC hematology and blood counts...). */
  loincClass: string;
  unit: string;
  low: number | null;
  high: number | null;
}

export const LOINC_TESTS: readonly LoincTest[] = [
  { code: '4548-4', loincClass: 'CHEM', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%', low: 4.0, high: 5.6 },
  { code: '2345-7', loincClass: 'CHEM', display: 'Glucose [Mass/volume] in Serum or Plasma', unit: 'mg/dL', low: 70, high: 99 },
  { code: '13457-7', loincClass: 'CHEM', display: 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation', unit: 'mg/dL', low: null, high: 100 },
  { code: '2160-0', loincClass: 'CHEM', display: 'Creatinine [Mass/volume] in Serum or Plasma', unit: 'mg/dL', low: 0.59, high: 1.35 },
  { code: '718-7', loincClass: 'HEM/BC', display: 'Hemoglobin [Mass/volume] in Blood', unit: 'g/dL', low: 12.0, high: 17.5 },
  { code: '2093-3', loincClass: 'CHEM', display: 'Cholesterol [Mass/volume] in Serum or Plasma', unit: 'mg/dL', low: null, high: 200 },
  { code: '6690-2', loincClass: 'HEM/BC', display: 'Leukocytes [#/volume] in Blood by Automated count', unit: '10*3/uL', low: 4.5, high: 11.0 },
];

export const LOINC_BY_CODE = new Map(LOINC_TESTS.map((t) => [t.code, t]));

export const LOINC_CLASSES = [...new Set(LOINC_TESTS.map((t) => t.loincClass))];

/** The codes of a class that the hub knows, for filtering results by class in SQL. */
export function codesOfClass(loincClass: string): string[] {
  return LOINC_TESTS.filter((t) => t.loincClass === loincClass).map((t) => t.code);
}

const LOINC_SHAPE = /^(\d{1,7})-(\d)$/;

/** The LOINC mod-10 check digit of the digits before the hyphen. */
export function loincCheckDigit(digits: string): number {
  let sum = 0;
  // From the right: positions 1, 3, 5... are doubled (digit sum), 2, 4, 6... taken as is.
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidLoinc(code: string): boolean {
  const m = LOINC_SHAPE.exec(code);
  return m !== null && loincCheckDigit(m[1]!) === Number(m[2]);
}
