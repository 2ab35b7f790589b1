import { isValidLoinc, LOINC_TESTS, loincCheckDigit } from '../../common/loinc';

describe('LOINC codes', () => {
  test.each(['4548-4', '2345-7', '13457-7', '2160-0', '718-7', '2093-3', '6690-2', '2089-1', '8480-6', '29463-7'])(
    '%s has a valid check digit',
    (code) => expect(isValidLoinc(code)).toBe(true),
  );

  test('every code in the catalog is valid', () => {
    for (const t of LOINC_TESTS) expect(isValidLoinc(t.code)).toBe(true);
  });

  test.each(['4548-5', '2345-0', '4548', '4548-44', 'abc-1', '', '12345678-9', ' 4548-4'])('%j is refused', (code) => {
    expect(isValidLoinc(code)).toBe(false);
  });

  test('the check digit is the mod-10 rule from the LOINC manual (12345 → 5)', () => {
    expect(loincCheckDigit('12345')).toBe(5);
  });
});
