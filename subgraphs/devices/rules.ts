import type { AccessRules } from '../kit/gate';
import type { SubgraphContext } from '../kit/context';
import { hiddenRow, type RowRule } from '../kit/rows';
import { Device, type DeviceReading } from './entities';

/** A device is DEVICES of its owner (no exception names a device itself: they name readings). */
export const DEVICE_ROWS: RowRule<Pick<Device, 'ownerPatientId'>> = { kind: 'Device', category: 'DEVICES', patientOf: (d) => d.ownerPatientId };

/** A reading is DEVICES of its device's owner; an exception can name when it was recorded. */
export const READING_ROWS: RowRule<DeviceReading & { ownerPatientId: string }> = {
  kind: 'DeviceReading',
  category: 'DEVICES',
  patientOf: (r) => r.ownerPatientId,
  facts: (r) => ({ at: r.recordedAt }),
  columns: { at: 'recorded_at' },
};

const ownerOfDevice = async (_: unknown, args: { input: { deviceId: string } }, ctx: SubgraphContext) =>
  (await ctx.db.getRepository(Device).findOne({ select: { ownerPatientId: true }, where: { id: args.input.deviceId } }))?.ownerPatientId ?? null;

/** What each devices field is, for the consent gate (subgraphs/kit/gate.ts). */
export const access: AccessRules = {
  // Looked up, then served only if visible (DEVICE_ROWS): unknown and hidden alike NOT_FOUND.
  Query: { fields: { device: 'PUBLIC', deviceReading: 'PUBLIC' } },
  Mutation: {
    fields: {
      // An unknown device and one the caller may not write to answer the same NOT_FOUND.
      ingestReadings: { category: 'DEVICES', action: 'write', patient: ownerOfDevice, hidden: (args: { input: { deviceId: string } }) => hiddenRow(DEVICE_ROWS, args.input.deviceId) },
      registerDevice: { category: 'DEVICES', action: 'write', patient: (_: unknown, args: { input: { ownerPatientId: string } }) => args.input.ownerPatientId },
    },
  },
  Patient: { patientOf: (p: { id: string }) => p.id, reference: 'PUBLIC', fields: { id: 'PUBLIC', devices: 'DEVICES' } },
  Device: {
    patientOf: (d: { ownerPatientId: string }) => d.ownerPatientId,
    row: DEVICE_ROWS,
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
  DeviceReading: { fields: { id: 'VIA_PARENT', metric: 'VIA_PARENT', value: 'VIA_PARENT', unit: 'VIA_PARENT', recordedAt: 'VIA_PARENT', device: 'VIA_PARENT' } },
  // The ingestion result is the caller's own; the device is a read like any other (the
  // Device row rule, with the read scope), so an ingest-only token learns nothing more.
  IngestReadingsPayload: {
    patientOf: (p: { device: { ownerPatientId: string } }) => p.device.ownerPatientId,
    fields: { deviceId: 'VIA_PARENT', sequence: 'VIA_PARENT', accepted: 'VIA_PARENT', duplicates: 'VIA_PARENT', device: 'DEVICES' },
  },
  // A subject arrives from the research subgraph's plan step; the series decides DEVICES
  // again, here, for that patient in THAT project (defence in depth), and the resolver
  // checks that the pseudonym is the patient's (research-series.ts).
  ResearchSubject: {
    patientOf: (s: { patientId: string }) => s.patientId,
    reference: 'PUBLIC',
    fields: {
      projectId: 'PUBLIC',
      pseudonym: 'PUBLIC',
      patientId: 'VIA_PARENT',
      readings: { category: 'DEVICES', scope: (s: { projectId: string }) => ({ project: s.projectId }) },
    },
  },
  // Rows of a series the gate and READING_ROWS (as SQL) already admitted.
  ResearchReading: { fields: { metric: 'VIA_PARENT', value: 'VIA_PARENT', unit: 'VIA_PARENT', recordedAt: 'VIA_PARENT', deviceKind: 'VIA_PARENT' } },
  ResearchReadingConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  ResearchReadingEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  DeviceReadingConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  DeviceReadingEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  PageInfo: { fields: { hasNextPage: 'VIA_PARENT', hasPreviousPage: 'VIA_PARENT', startCursor: 'VIA_PARENT', endCursor: 'VIA_PARENT' } },
};
