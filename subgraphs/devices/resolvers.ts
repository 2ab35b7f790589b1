import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput, notFound } from '../../common/errors';
import { parsePage, type PageArgs, type SortColumn } from '../../common/pagination';
import { DateTime } from '../../common/scalars';
import { childPage, type Filter } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import { byId, groupedBy } from '../kit/loaders';
import { Device, DeviceReading } from './entities';
import { ingestReadings, type IngestInput } from './ingest';
import { registerDevice, type NewDevice } from './register';
import { METRICS_BY_KIND, type Metric } from './metrics';

type Ctx = SubgraphContext;

const NEWEST_FIRST: SortColumn[] = [
  { column: 'recorded_at', direction: 'DESC' },
  { column: 'id', direction: 'DESC' },
];

async function loadDevice(ctx: Ctx, id: string): Promise<Device> {
  const device = await byId(ctx, Device, 'device').load(id);
  if (!device) throw notFound('Device', id);
  return device;
}

interface ReadingsArgs extends PageArgs {
  metric?: Metric | null;
  since?: Date | null;
  until?: Date | null;
}

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime,

  Query: {
    device: (_: unknown, { id }: { id: string }, ctx: Ctx) => loadDevice(ctx, id),
  },

  Mutation: {
    ingestReadings: (_: unknown, { input }: { input: IngestInput }, ctx: Ctx) => ingestReadings(ctx.db, input, ctx.identity),
    registerDevice: (_: unknown, { input }: { input: NewDevice }, ctx: Ctx) => registerDevice(ctx, input),
  },

  Patient: {
    // Devices does not own patients: any id is a valid reference.
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    devices: (patient: { id: string }, _: unknown, ctx: Ctx) =>
      groupedBy(ctx, Device, 'ownerPatientId', 'device', { id: 'ASC' }).load(patient.id),
  },

  Device: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => loadDevice(ctx, ref.id),
    owner: (d: Device) => ({ __typename: 'Patient', id: d.ownerPatientId }),
    metrics: (d: Device) => METRICS_BY_KIND[d.kind],
    readings(device: Device, args: ReadingsArgs, ctx: Ctx) {
      const page = parsePage(args, NEWEST_FIRST.length);
      if (args.since && args.until && args.since >= args.until) throw badInput('`since` must be before `until`', 'until');
      const filters: Filter[] = [];
      if (args.metric) filters.push({ sql: 'metric = :metric', params: { metric: args.metric } });
      if (args.since) filters.push({ sql: 'recorded_at >= :since', params: { since: args.since.toISOString() } });
      if (args.until) filters.push({ sql: 'recorded_at < :until', params: { until: args.until.toISOString() } });
      return childPage(
        ctx,
        {
          name: 'Device.readings',
          entity: DeviceReading,
          table: 'device_reading',
          parentColumn: 'device_id',
          sort: NEWEST_FIRST,
          sortKey: (r) => [r.recordedAt.toISOString(), r.id],
          parentOf: (r) => r.deviceId,
          filters,
        },
        page,
        device.id,
      );
    },
  },
};
