/**
 * The ledger benchmark traces each leaf back to its write by the `count` it carries, and
 * means its events to look like real access decisions: every field must survive the
 * ledger's allow-list untouched (no payloadDigest standing in for a refused field).
 */
import { decisionPayload, summarize } from '../../bench/ledger/common';
import { encodeLeaf, ledgerEventFromOutbox, redactEvent } from '../../ledger/core/leaf';
import { benchEvent, benchLeafHash, benchLeafText } from '../../bench/ledger/proofs';

test('benchmark decisions pass the allow-list whole and keep their sequence number', () => {
  for (const sequence of [0, 1, 9, 123_457, 999_999]) {
    const payload = decisionPayload(sequence);
    const event = ledgerEventFromOutbox({ id: 'evt_0123456789abcdef0123', kind: 'access.decision', payload: JSON.stringify(payload), createdAt: new Date() });
    expect(event.payloadDigest).toBeUndefined();
    expect(event).toMatchObject(payload);
    expect(event.count).toBe(sequence);
  }
});

test('percentiles are nearest-rank', () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
  expect(summarize(samples)).toEqual({ n: 100, p50: 50, p99: 99, max: 100, mean: 50.5 });
});

test("the 1M-leaf benchmark ledger's leaves are what the worker would hash for those events", () => {
  for (const i of [0, 1, 65_535, 999_999]) {
    const event = benchEvent(i);
    expect(redactEvent({ ...event })).toEqual(event);
    expect(benchLeafText(i)).toBe(encodeLeaf(event).text);
    expect(benchLeafHash(i).equals(encodeLeaf(event).hash)).toBe(true);
  }
});
