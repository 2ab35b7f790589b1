import type { AccessRules } from '../kit/gate';
import type { SubgraphContext } from '../kit/context';
import { Device } from './entities';

const ownerOfDevice = async (_: unknown, args: { input: { deviceId: string } }, ctx: SubgraphContext) =>
  (await ctx.db.getRepository(Device).findOne({ select: { ownerPatientId: true }, where: { id: args.input.deviceId } }))?.ownerPatientId ??
  // An unknown device: let the resolver answer NOT_FOUND rather than FORBIDDEN.
  null;

/** What each devices field is, for the consent gate (subgraphs/kit/gate.ts). */
export const access: AccessRules = {
  Query: { fields: { device: 'PUBLIC' } },
  Mutation: {
    fields: {
      ingestReadings: { category: 'DEVICES', action: 'write', patient: ownerOfDevice },
      registerDevice: { category: 'DEVICES', action: 'write', patient: (_: unknown, args: { input: { ownerPatientId: string } }) => args.input.ownerPatientId },
    },
  },
  Patient: { patientOf: (p: { id: string }) => p.id, reference: 'PUBLIC', fields: { id: 'PUBLIC', devices: 'DEVICES' } },
  Device: {
    patientOf: (d: { ownerPatientId: string }) => d.ownerPatientId,
    reference: 'PUBLIC',
    fields: {
      id: 'DEVICES',
      kind: 'DEVICES',
      model: 'DEVICES',
      serial: 'DEVICES',
      owner: 'DEVICES',
      publicKey: 'DEVICES',
      lastSequence: 'DEVICES',
      metrics: 'DEVICES',
      readings: 'DEVICES',
    },
  },
  DeviceReading: { fields: { id: 'VIA_PARENT', metric: 'VIA_PARENT', value: 'VIA_PARENT', unit: 'VIA_PARENT', recordedAt: 'VIA_PARENT' } },
  IngestReadingsPayload: { fields: { device: 'VIA_PARENT', accepted: 'VIA_PARENT', duplicates: 'VIA_PARENT' } },
  DeviceReadingConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  DeviceReadingEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  PageInfo: { fields: { hasNextPage: 'VIA_PARENT', endCursor: 'VIA_PARENT' } },
};
