/**
 * `custodian verify` over the real gateway's ledger endpoints, on a ledger that holds
 * both leaf formats: format-1 leaves exactly as the code at main wrote them, then
 * format-2 leaves. Every leaf is read from entry bundles with the ledger's one parser
 * (the bundle carries only the bytes: there is no served reading of them to disagree
 * with); a leaf of a newer format is hashed but not read (exit 2).
 */
import canonicalize from 'canonicalize';
import type { DataSource } from 'typeorm';
import { verifyLedger } from '../../cli/verify';
import type { LedgerNoteKey } from '../../ledger/core/note-key';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { appendEvents } from '../../ledger/store/append';
import { startLedgerGateway, type LedgerGateway } from '../support/ledger-gateway';
import { appendLeafTexts, FORMAT_1_LEAVES } from '../support/ledger-leaves';
import { testEvent } from '../support/ledger-pipeline';

const ORIGIN = 'custodian.test/verify';
let hub: LedgerGateway;
let ledger: DataSource;
let key: LedgerNoteKey;
let token: string;

beforeAll(async () => {
  hub = await startLedgerGateway();
  ledger = hub.ledger;
  token = await hub.tokenFor('verify.officer', 'compliance');
  key = hub.signerKey(ORIGIN);
  await appendLeafTexts(ledger, FORMAT_1_LEAVES.map((l) => l.text));
  await appendEvents(ledger, [testEvent(1, 'access.decision'), testEvent(2, 'consent.granted')]);
  await publishCheckpoint(ledger, key, ORIGIN);
}, 60_000);
afterAll(() => hub?.stop());

const verify = () => verifyLedger({ url: hub.gateway.url, token, key: key.verifierKey });

test('reads every leaf of both formats and verifies the ledger', async () => {
  const report = await verify();
  expect(report.problems).toEqual([]);
  expect(report.unverified).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.notes).toContain(`leaves read: ${FORMAT_1_LEAVES.length} of format 1, 2 of format 2`);
});

test('a leaf of a format newer than this verifier is hashed into the root but not read: could not verify', async () => {
  const future = canonicalize({ at: '2026-12-02T10:00:00Z', id: 'evt_from_the_future', kind: 'k', v: 3 })!;
  const [index] = await appendLeafTexts(ledger, [future]);
  await publishCheckpoint(ledger, key, ORIGIN);
  // Entry bundles serve the stored bytes without reading them, so a gateway of any release serves it.
  const report = await verify();
  expect(report.problems).toEqual([]);
  expect(report.unverified).toEqual([`entry ${index}: leaf format 3 is newer than this reader (it knows 1 to 2); its hash is checked, its content is not read`]);
  expect(report.ok).toBe(false);
  expect(report.notes.join('\n')).toMatch(/root recomputed from all \d+ entries matches the signed checkpoint/);
});
