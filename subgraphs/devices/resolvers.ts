import type { ResolverMap } from '../../common/resolver-map';
import { badInput } from '../../common/errors';
import { parsePage, type PageArgs, type SortColumn } from '../../common/pagination';
import { DateTime } from '../../common/scalars';
import { childPage, type Filter } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import { byId, groupedBy } from '../kit/loaders';
import { rowFilters, visibleById } from '../kit/rows';
import { DEVICE_ROWS, READING_ROWS } from './rules';
import { Device, DeviceReading } from './entities';
import { ingestReadings, type IngestInput } from './ingest';
import { registerDevice, type NewDevice } from './register';
import { METRICS_BY_KIND, type Metric } from './metrics';
import { subjectReadings } from './research-series';
import type { SeriesArgs, SubjectRef } from '../kit/research-series';

type Ctx = SubgraphContext;

const NEWEST_FIRST: SortColumn[] = [
  { column: 'recorded_at', direction: 'DESC' },
  { column: 'id', direction: 'DESC' },
];

const OLDEST_FIRST: SortColumn[] = NEWEST_FIRST.map((c) => ({ ...c, direction: 'ASC' }));

const loadDevice = (ctx: Ctx, id: string) => byId(ctx, Device, 'device').load(id);

interface ReadingsArgs extends PageArgs {
  metric?: Metric | null;
  since?: Date | null;
  until?: Date | null;
  oldestFirst?: boolean | null;
}

export const resolvers: ResolverMap<Ctx> = {
  DateTime,

  Query: {
    device: async (_: unknown, { id }: { id: string }, ctx: Ctx) => visibleById(ctx, DEVICE_ROWS, await loadDevice(ctx, id), id),
    // Looked up with its device (whose owner the reading belongs to), then served only if
    // visible (READING_ROWS): unknown and hidden alike NOT_FOUND.
    async deviceReading(_: unknown, { id }: { id: string }, ctx: Ctx) {
      const reading = await byId(ctx, DeviceReading, 'reading').load(id);
      const device = reading && (await loadDevice(ctx, reading.deviceId));
      return visibleById(ctx, READING_ROWS, reading && device ? Object.assign(reading, { ownerPatientId: device.ownerPatientId, device }) : null, id);
    },
  },

  Mutation: {
    async ingestReadings(_: unknown, { input }: { input: IngestInput }, ctx: Ctx) {
      const result = await ingestReadings(ctx.db, input, ctx.identity);
      return { ...result, deviceId: result.device.id, sequence: input.sequence };
    },
    registerDevice: (_: unknown, { input }: { input: NewDevice }, ctx: Ctx) => registerDevice(ctx, input),
  },

  Patient: {
    // Devices does not own patients: any id is a valid reference.
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    devices: (patient: { id: string }, _: unknown, ctx: Ctx) =>
      groupedBy(ctx, Device, 'ownerPatientId', 'device', { id: 'ASC' }).load(patient.id),
  },

  ResearchSubject: {
    readings: (s: SubjectRef, args: SeriesArgs & { kind?: string | null }, ctx: Ctx) => subjectReadings(s, args, ctx),
  },

  Device: {
    // The gate answers an unknown or hidden device NOT_FOUND (DEVICE_ROWS).
    __resolveReference: (ref: { id: string }, ctx: Ctx) => loadDevice(ctx, ref.id),
    owner: (d: Device) => ({ __typename: 'Patient', id: d.ownerPatientId }),
    metrics: (d: Device) => METRICS_BY_KIND[d.kind],
    async readings(device: Device, args: ReadingsArgs, ctx: Ctx) {
      const page = parsePage(args, NEWEST_FIRST.length);
      if (args.since && args.until && args.since >= args.until) throw badInput('`since` must be before `until`', 'until');
      const filters: Filter[] = [];
      if (args.metric) filters.push({ sql: 'metric = :metric', params: { metric: args.metric } });
      if (args.since) filters.push({ sql: 'recorded_at >= :since', params: { since: args.since.toISOString() } });
      if (args.until) filters.push({ sql: 'recorded_at < :until', params: { until: args.until.toISOString() } });
      // The reading rule as SQL: periods the owner's consent excludes are left out.
      filters.push(...(await rowFilters(ctx, READING_ROWS, device.ownerPatientId)));
      return childPage(
        ctx,
        {
          // The order is part of the name: the page loader is shared by equal names and filters.
          name: args.oldestFirst ? 'Device.readings:oldest' : 'Device.readings',
          entity: DeviceReading,
          table: 'device_reading',
          parentColumn: 'device_id',
          sort: args.oldestFirst ? OLDEST_FIRST : NEWEST_FIRST,
          sortKey: (r) => [r.recordedAt.toISOString(), r.id],
          parentOf: (r) => r.deviceId,
          filters,
        },
        page,
        device.id,
      );
    },
  },

  DeviceReading: {
    // deviceReading(id) loaded the device already; a reading of a list loads it (batched).
    device: (r: DeviceReading & { device?: Device }, _: unknown, ctx: Ctx) => r.device ?? loadDevice(ctx, r.deviceId),
  },
};
