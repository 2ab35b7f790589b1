/**
 * Registering a device: its owner, what it is, and its Ed25519 public key. Who may is the
 * consent gate's question (DEVICES, write, for the owner): the patient themself, or a
 * clinician their consents and the base policies allow.
 */
import { publicKeyFromRaw } from '../../common/device-signature';
import { badInput, userError } from '../../common/errors';
import { newId } from '../../common/ids';
import { serialized } from '../../common/database';
import { actorFields, appendToOutbox } from '../../ledger/pipeline/outbox';
import type { SubgraphContext } from '../kit/context';
import { Device } from './entities';
import type { DeviceKind } from './metrics';

export interface NewDevice {
  ownerPatientId: string;
  kind: DeviceKind;
  model: string;
  serial: string;
  publicKey: string;
}

export async function registerDevice(ctx: SubgraphContext, input: NewDevice): Promise<Device> {
  if (!/^[\w .-]{1,100}$/.test(input.model)) throw badInput('model: 1–100 letters, digits, spaces, dots or dashes', 'model');
  if (!/^[\w-]{1,64}$/.test(input.serial)) throw badInput('serial: 1–64 letters, digits or dashes', 'serial');
  try {
    publicKeyFromRaw(input.publicKey);
  } catch {
    throw badInput('publicKey must be a raw 32-byte Ed25519 key, base64url', 'publicKey');
  }
  const repo = ctx.db.getRepository(Device);
  if (await repo.findOneBy({ serial: input.serial })) throw userError('CONFLICT', `A device with serial ${input.serial} is already registered`);
  const device: Device = {
    id: newId('dev'),
    kind: input.kind,
    model: input.model,
    serial: input.serial,
    ownerPatientId: input.ownerPatientId,
    publicKey: input.publicKey,
    lastSequence: 0,
  };
  const now = new Date();
  await serialized(ctx.db, () =>
    ctx.db.transaction(async (tx) => {
      await tx.getRepository(Device).insert(device);
      await appendToOutbox(tx, [{
        kind: 'device.registered',
        payload: { ...actorFields(ctx.identity), patientId: device.ownerPatientId, deviceId: device.id, category: 'DEVICES', action: 'write' },
      }], now);
    }),
  );
  return device;
}
