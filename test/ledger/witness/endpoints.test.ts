/**
 * LEDGER_WITNESSES as the gateway and the ledger worker read it (ledger/config.ts,
 * ledger/witness/endpoints.ts): a malformed entry, or one witness named twice, stops
 * start-up with a message naming it, rather than publishing checkpoints witnessed by
 * fewer witnesses than the operator thinks.
 */
import { settingProblems } from '../../../common/production';
import { readLedgerEnv } from '../../../ledger/config';
import { generateCosignerKey } from '../../../ledger/core/cosignature';
import { parseWitnessList } from '../../../ledger/witness/endpoints';

const alpha = generateCosignerKey('alpha.example/w').verifierKey;
const alphaAgain = generateCosignerKey('alpha.example/w').verifierKey; // the same name, another key
const beta = generateCosignerKey('beta.example/w').verifierKey;

test('each witness once: its key, name and URL (a trailing slash dropped)', () => {
  const list = parseWitnessList(` ${alpha}@https://alpha.example/w/ , ${beta}@http://127.0.0.1:7380,`);
  expect(list.map((w) => [w.verifier.name, w.baseUrl])).toEqual([
    ['alpha.example/w', 'https://alpha.example/w'],
    ['beta.example/w', 'http://127.0.0.1:7380'],
  ]);
  expect(parseWitnessList('')).toEqual([]);
});

test('the same witness twice, at two URLs or under two keys, is refused with its name', () => {
  for (const twice of [`${alpha}@https://a.example,${alpha}@https://b.example`, `${alpha}@https://a.example,${alphaAgain}@https://a.example`]) {
    expect(() => parseWitnessList(twice)).toThrow('witness alpha.example/w is listed twice: list each witness once, under one key and one URL');
    expect(settingProblems(() => readLedgerEnv({ LEDGER_WITNESSES: twice }))).toEqual([
      'LEDGER_WITNESSES: witness alpha.example/w is listed twice: list each witness once, under one key and one URL',
    ]);
  }
});

test('an entry without a URL, with a URL that is not one, or not http(s), is refused', () => {
  expect(() => parseWitnessList(alpha)).toThrow(/is not <verifier key>@<base URL>/);
  expect(() => parseWitnessList(`${alpha}@not a url`)).toThrow('witness alpha.example/w: "not a url" is not a URL');
  expect(() => parseWitnessList(`${alpha}@ftp://alpha.example/w`)).toThrow('witness alpha.example/w: the URL must be http(s)');
});
