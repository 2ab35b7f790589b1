import { Device, DeviceReading } from '../../subgraphs/devices/entities';
import { codes, gql, ok } from '../helpers/graphql';
import { queriesSent } from '../helpers/metrics';
import { startSeededSubgraph, type SubgraphUnderTest } from '../helpers/subgraph';

let t: SubgraphUnderTest;
let watch: Device;
let cgm: Device;
beforeAll(async () => {
  t = await startSeededSubgraph('devices', 60);
  const devices = await t.subgraph.db.getRepository(Device).find({ order: { id: 'ASC' } });
  watch = devices.find((d) => d.kind === 'SMARTWATCH')!;
  cgm = devices.find((d) => d.kind === 'CGM')!;
});
afterAll(() => t?.close());

const INGEST = `mutation($input: IngestReadingsInput!) {
  ingestReadings(input: $input) { accepted duplicates device { id } }
}`;
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
    const { device } = ok(await gql(t.url, READINGS, { id: watch.id, first: 100 }));
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
    const first = ok(await gql(t.url, INGEST, { input: { deviceId: watch.id, readings } }));
    expect(first.ingestReadings).toEqual({ accepted: 3, duplicates: 0, device: { id: watch.id } });
    const retry = ok(await gql(t.url, INGEST, { input: { deviceId: watch.id, readings } }));
    expect(retry.ingestReadings).toMatchObject({ accepted: 0, duplicates: 3 });
    expect(await readingCount(watch.id)).toBe(before + 3);

    const { device } = ok(await gql(t.url, READINGS, { id: watch.id, metric: 'HEART_RATE', since: at(0), until: at(2) }));
    expect(device.readings.nodes.map((n: any) => [n.value, n.unit, n.recordedAt])).toEqual([
      [74, '/min', at(1)],
      [71, '/min', at(0)],
    ]);
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
      const res = await gql(t.url, INGEST, { input: { deviceId: cgm.id, readings } });
      expect([why, codes(res)]).toEqual([why, ['BAD_USER_INPUT']]);
    }
    expect(codes(await gql(t.url, INGEST, { input: { deviceId: cgm.id, readings: [{ ...good, metric: 'STEPS' }] } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(t.url, INGEST, { input: { deviceId: cgm.id, readings: [{ ...good, value: 'high' }] } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(t.url, INGEST, { input: { deviceId: 'dev_nope', readings: [good] } }))).toEqual(['NOT_FOUND']);
    expect(await readingCount(cgm.id)).toBe(before);
  });

  test('readings page through exactly once, and time windows are validated', async () => {
    const all = await t.subgraph.db.getRepository(DeviceReading).find({ where: { deviceId: watch.id } });
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 50; i++) {
      const { device }: any = ok(await gql(t.url, READINGS, { id: watch.id, first: 5, after }));
      seen.push(...device.readings.nodes.map((n: any) => n.id));
      if (!device.readings.pageInfo.hasNextPage) break;
      after = device.readings.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(all.map((r) => r.id).sort());
    expect(codes(await gql(t.url, READINGS, { id: watch.id, since: at(5), until: at(5) }))).toEqual(['BAD_USER_INPUT']);
  });

  test("patients' devices resolve in one query for a whole batch", async () => {
    const owners = (await t.subgraph.db.getRepository(Device).find({ take: 15 })).map((d) => d.ownerPatientId);
    const before = await queriesSent('devices');
    const res: any = ok(
      await gql(t.url, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id devices { id kind } } } }', {
        r: owners.map((id) => ({ __typename: 'Patient', id })),
      }),
    );
    expect(await queriesSent('devices')).toBe(before + 1);
    expect(res._entities.every((p: any) => p.devices.length >= 1)).toBe(true);
  });
});
