/**
 * Production refuses a witness of LEDGER_WITNESSES reached over plain http anywhere but
 * this host (common/production.ts plainHttpProblem, applied where the list is read in
 * ledger/config.ts): the gateway and the ledger worker both read the list, and both
 * refuse to start on it, with the other problems, in one message. Development accepts it.
 */
import { checkStartup, settingProblems, StartupRefused } from '../../common/production';
import { readLedgerEnv } from '../../ledger/config';
import { generateCosignerKey } from '../../ledger/core/cosignature';

const alpha = generateCosignerKey('alpha.example/w').verifierKey;
const beta = generateCosignerKey('beta.example/w').verifierKey;
const list = (...urls: string[]) => urls.map((u, i) => `${i === 0 ? alpha : beta}@${u}`).join(',');
const production = (witnesses: string) => ({ NODE_ENV: 'production', LEDGER_WITNESSES: witnesses });

test('in production, http:// to another host is refused; https and http on this host are accepted', () => {
  expect(settingProblems(() => readLedgerEnv(production(list('http://witness.example:7380', 'https://beta.example/w'))))).toEqual([
    'LEDGER_WITNESSES: witness alpha.example/w: must be an https URL in production (or on this host), since anyone on the path can drop or delay its cosignatures (it is http://witness.example:7380)',
  ]);
  expect(settingProblems(() => readLedgerEnv(production(list('http://10.0.0.7:7380', 'http://[::2]:7380'))))).toHaveLength(2);
  for (const ok of [list('https://witness.example', 'http://localhost:7380'), list('http://127.0.0.1:7380', 'http://[::1]:7380'), '']) {
    expect(settingProblems(() => readLedgerEnv(production(ok)))).toEqual([]);
  }
});

test('in development the same list is accepted', () => {
  const env = readLedgerEnv({ LEDGER_WITNESSES: list('http://witness.example:7380') });
  expect(env.LEDGER_WITNESSES.map((w) => w.baseUrl)).toEqual(['http://witness.example:7380']);
});

test('the gateway and the ledger worker refuse to start on it, naming the witness among their other problems', async () => {
  const source = { ...production(list('http://witness.example:7380')), REDIS_URL: 'redis://127.0.0.1:1' };
  for (const [name, roles] of [['gateway', ['gateway']], ['ledger (worker)', ['ledger-worker']]] as const) {
    const refusal = await checkStartup(name, [...roles], () => settingProblems(() => readLedgerEnv(source)), { ...source }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(StartupRefused);
    const message = (refusal as Error).message;
    expect(message).toMatch(new RegExp(`^${name.replace(/[()]/g, '\\$&')} refuses to start \\(NODE_ENV=production\\)`));
    expect(message).toContain('  - LEDGER_WITNESSES: witness alpha.example/w: must be an https URL in production');
    expect(message).toContain('DATABASE_URL: required in production'); // one message, every problem
  }
});
