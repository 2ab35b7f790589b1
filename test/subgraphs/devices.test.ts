import fs from 'node:fs';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { deviceKeyFromSeed, rawPublicKey, signBatch, type SignedReading } from '../../common/device-signature';
import { deviceKeysPath } from '../../seed/write';
import { Device, DeviceReading } from '../../subgraphs/devices/entities';
import { OutboxEvent } from '../../ledger/pipeline/outbox';
import { codes, ok } from '../support/graphql';
import { queriesSent } from '../support/metrics';
import { startSeededSubgraph, type SubgraphUnderTest } from '../support/subgraph';

let t: SubgraphUnderTest;
let watch: Device;
let cgm: Device;
let deviceKeys: Record<string, string>;
const sequences = new Map<string, number>();
beforeAll(async () => {
  t = await startSeededSubgraph('devices', 60);
  const devices = await t.subgraph.db.getRepository(Device).find({ order: { id: 'ASC' } });
  watch = devices.find((d) => d.kind === 'SMARTWATCH')!;
  cgm = devices.find((d) => d.kind === 'CGM')!;
  deviceKeys = JSON.parse(fs.readFileSync(deviceKeysPath(t.database.env.DATA_DIR), 'utf8'));
});
afterAll(() => t?.close());

const INGEST = `mutation($input: IngestReadingsInput!) {
  ingestReadings(input: $input) { accepted duplicates device { id lastSequence } }
}`;

const keyOf = (deviceId: string) => deviceKeyFromSeed(Buffer.from(deviceKeys[deviceId]!, 'hex'));

/** A batch as the device would send it: the next sequence, signed with its key. */
function signed(deviceId: string, readings: SignedReading[], opts: { sequence?: number; key?: KeyObject } = {}) {
  const sequence = opts.sequence ?? (sequences.get(deviceId) ?? 0) + 1;
  if (opts.sequence === undefined) sequences.set(deviceId, sequence);
  return { deviceId, sequence, readings, signature: signBatch({ deviceId, sequence, readings }, opts.key ?? keyOf(deviceId)) };
}
const READINGS = `query($id: ID!, $metric: Metric, $since: DateTime, $until: DateTime, $first: Int, $after: String) {
  device(id: $id) {
    kind metrics owner { id }
    readings(metric: $metric, since: $since, until: $until, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { id metric value unit recordedAt }
    }
  }
}`;

const readingCount = (deviceId: string) => t.subgraph.db.getRepository(DeviceReading).countBy({ deviceId });
const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 8, minute)).toISOString();

describe('devices subgraph', () => {
  test('a device, its owner, its metrics and its readings newest first', async () => {
    const { device } = ok(await t.gql(READINGS, { id: watch.id, first: 100 }));
    expect(device.kind).toBe('SMARTWATCH');
    expect(device.metrics).toEqual(['HEART_RATE', 'SPO2']);
    expect(device.owner.id).toBe(watch.ownerPatientId);
    const times = device.readings.nodes.map((n: any) => n.recordedAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(device.readings.totalCount).toBe(await readingCount(watch.id));
  });

  test('ingests a batch atomically, and a retried batch adds nothing', async () => {
    const before = await readingCount(watch.id);
    const readings = [
      { metric: 'HEART_RATE', value: 71, recordedAt: at(0) },
      { metric: 'HEART_RATE', value: 74, recordedAt: at(1) },
      { metric: 'SPO2', value: 97.5, recordedAt: at(1) },
    ];
    const batch = signed(watch.id, readings);
    const first = ok(await t.gql(INGEST, { input: batch }));
    expect(first.ingestReadings).toEqual({ accepted: 3, duplicates: 0, device: { id: watch.id, lastSequence: batch.sequence } });
    // The same signed batch again is a replay: refused, nothing written.
    const replay = await t.gql(INGEST, { input: batch });
    expect(codes(replay)).toEqual(['CONFLICT']);
    // The same readings in a new, properly signed batch are recognised as already stored.
    const resent = ok(await t.gql(INGEST, { input: signed(watch.id, readings) }));
    expect(resent.ingestReadings).toMatchObject({ accepted: 0, duplicates: 3 });
    expect(await readingCount(watch.id)).toBe(before + 3);

    const { device } = ok(await t.gql(READINGS, { id: watch.id, metric: 'HEART_RATE', since: at(0), until: at(2) }));
    expect(device.readings.nodes.map((n: any) => [n.value, n.unit, n.recordedAt])).toEqual([
      [74, '/min', at(1)],
      [71, '/min', at(0)],
    ]);
  });

  test('an accepted batch writes its ledger event in the same transaction; a refused one writes none', async () => {
    const ingested = () => t.subgraph.db.getRepository(OutboxEvent).find({ where: { kind: 'readings.ingested' } });
    const before = (await ingested()).length;
    const batch = signed(watch.id, [{ metric: 'HEART_RATE', value: 88, recordedAt: at(30) }, { metric: 'SPO2', value: 96, recordedAt: at(30) }]);
    ok(await t.gql(INGEST, { input: batch }));
    expect(codes(await t.gql(INGEST, { input: batch }))).toEqual(['CONFLICT']);
    const rows = await ingested();
    expect(rows).toHaveLength(before + 1);
    const payload = JSON.parse(rows.at(-1)!.payload);
    expect(payload).toMatchObject({ deviceId: watch.id, patientId: watch.ownerPatientId, sequence: batch.sequence, acceptedCount: 2, duplicateCount: 0, category: 'DEVICES', action: 'write' });
    // Counts and ids only: no reading value reaches the ledger's input.
    expect(rows.at(-1)!.payload).not.toMatch(/\b(88|96)\b/);
  });

  test('refuses a bad batch whole: nothing of it is written', async () => {
    const before = await readingCount(cgm.id);
    const good = { metric: 'GLUCOSE', value: 110, recordedAt: at(10) };
    const cases: [string, unknown[]][] = [
      ['metric the device does not measure', [good, { metric: 'HEART_RATE', value: 60, recordedAt: at(11) }]],
      ['impossible value', [good, { metric: 'GLUCOSE', value: 5000, recordedAt: at(11) }]],
      ['from the future', [good, { metric: 'GLUCOSE', value: 100, recordedAt: new Date(Date.now() + 3_600_000).toISOString() }]],
      ['empty', []],
      ['too large', Array.from({ length: 1001 }, (_, i) => ({ metric: 'GLUCOSE', value: 100, recordedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() }))],
    ];
    for (const [why, readings] of cases) {
      const res = await t.gql(INGEST, { input: signed(cgm.id, readings as SignedReading[]) });
      expect([why, codes(res)]).toEqual([why, ['BAD_USER_INPUT']]);
    }
    expect(codes(await t.gql(INGEST, { input: { ...signed(cgm.id, [good]), readings: [{ ...good, metric: 'STEPS' }] } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await t.gql(INGEST, { input: { ...signed(cgm.id, [good]), readings: [{ ...good, value: 'high' }] } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await t.gql(INGEST, { input: { ...signed(cgm.id, [good]), deviceId: 'dev_nope' } }))).toEqual(['NOT_FOUND']);
    expect(await readingCount(cgm.id)).toBe(before);
  });

  test("refuses batches not signed by the device's own key, or replayed out of order", async () => {
    const before = await readingCount(cgm.id);
    const reading = { metric: 'GLUCOSE', value: 120, recordedAt: at(30) };
    const stranger = generateKeyPairSync('ed25519').privateKey;
    expect(codes(await t.gql(INGEST, { input: signed(cgm.id, [reading], { key: stranger }) }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.gql(INGEST, { input: signed(cgm.id, [reading], { key: keyOf(watch.id) }) }))).toEqual(['UNAUTHENTICATED']);
    // Signed by the right key, then tampered with: the value changed in transit.
    const tampered = signed(cgm.id, [reading]);
    expect(codes(await t.gql(INGEST, { input: { ...tampered, readings: [{ ...reading, value: 300 }] } }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await t.gql(INGEST, { input: { ...tampered, signature: 'AAAA' } }))).toEqual(['UNAUTHENTICATED']);
    expect(await readingCount(cgm.id)).toBe(before);

    const accepted = signed(cgm.id, [reading], { sequence: 1000 });
    expect(ok(await t.gql(INGEST, { input: accepted })).ingestReadings.accepted).toBe(1);
    const older = signed(cgm.id, [{ ...reading, recordedAt: at(31) }], { sequence: 999 });
    expect(codes(await t.gql(INGEST, { input: older }))).toEqual(['CONFLICT']);
    expect(await readingCount(cgm.id)).toBe(before + 1);
  });

  test('a registered device sends readings with its own key', async () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const { registerDevice } = ok(
      await t.gql(
        `mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) { id kind publicKey lastSequence owner { id } } }`,
        { input: { ownerPatientId: watch.ownerPatientId, kind: 'PULSE_OXIMETER', model: 'OxiClip 2', serial: 'PO-TEST0001', publicKey: rawPublicKey(key) } },
      ),
    );
    expect(registerDevice).toMatchObject({ kind: 'PULSE_OXIMETER', lastSequence: 0, owner: { id: watch.ownerPatientId } });
    const batch = { deviceId: registerDevice.id, sequence: 1, readings: [{ metric: 'SPO2', value: 96, recordedAt: at(40) }] };
    const res = ok(await t.gql(INGEST, { input: { ...batch, signature: signBatch(batch, key) } }));
    expect(res.ingestReadings.accepted).toBe(1);
    const duplicate = await t.gql(
      `mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) { id } }`,
      { input: { ownerPatientId: watch.ownerPatientId, kind: 'CGM', model: 'X', serial: 'PO-TEST0001', publicKey: rawPublicKey(key) } },
    );
    expect(codes(duplicate)).toEqual(['CONFLICT']);
    const badKey = await t.gql(
      `mutation($input: RegisterDeviceInput!) { registerDevice(input: $input) { id } }`,
      { input: { ownerPatientId: watch.ownerPatientId, kind: 'CGM', model: 'X', serial: 'PO-TEST0002', publicKey: 'c2hvcnQ' } },
    );
    expect(codes(badKey)).toEqual(['BAD_USER_INPUT']);
  });

  test('readings page through exactly once, and time windows are validated', async () => {
    const all = await t.subgraph.db.getRepository(DeviceReading).find({ where: { deviceId: watch.id } });
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 50; i++) {
      const { device }: any = ok(await t.gql(READINGS, { id: watch.id, first: 5, after }));
      seen.push(...device.readings.nodes.map((n: any) => n.id));
      if (!device.readings.pageInfo.hasNextPage) break;
      after = device.readings.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(all.map((r) => r.id).sort());
    expect(codes(await t.gql(READINGS, { id: watch.id, since: at(5), until: at(5) }))).toEqual(['BAD_USER_INPUT']);
  });

  test('decisions recorded by other requests survive a concurrent batch that rolls back', async () => {
    const decisions = () => t.subgraph.db.getRepository(OutboxEvent).countBy({ kind: 'access.decision' });
    const before = await decisions();
    const replayed = signed(watch.id, [{ metric: 'HEART_RATE', value: 65, recordedAt: at(50) }]);
    ok(await t.gql(INGEST, { input: replayed }));
    const afterFirst = await decisions();
    // Fifteen replays (each rolls its transaction back) racing fifteen reads.
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? t.gql(INGEST, { input: replayed }) : t.gql(READINGS, { id: watch.id, first: 1 }))),
    );
    expect(results.filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(15);
    expect(results.filter((r) => !r.errors)).toHaveLength(15);
    // The accepted batch: DEVICES write (the mutation) and read (the device it returns).
    expect(afterFirst - before).toBe(2);
    // Then one decision per request — write for a replay, read for a read — and none
    // swallowed by a rolled-back transaction.
    expect((await decisions()) - afterFirst).toBe(30);
  });

  test("patients' devices resolve in one query for a whole batch", async () => {
    const owners = (await t.subgraph.db.getRepository(Device).find({ take: 15 })).map((d) => d.ownerPatientId);
    const before = await queriesSent('devices');
    const res: any = ok(
      await t.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id devices { id kind } } } }', {
        r: owners.map((id) => ({ __typename: 'Patient', id })),
      }),
    );
    // The devices, then the request's consent decisions written to the outbox.
    expect(await queriesSent('devices')).toBe(before + 2);
    expect(res._entities.every((p: any) => p.devices.length >= 1)).toBe(true);
  });
});
