/**
 * Inputs for each mutation, so that its payload paths can be asked for: a signed batch
 * of readings, a new device, a consent, a revocation, a break-the-glass, a review. The
 * payload selections themselves come from the schema like every other path; only the
 * inputs are written here. Each maker can aim at a given target id, so that an unknown
 * id and a hidden one can be compared on every mutation that takes one.
 */
import fs from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { deviceKeyFromSeed, rawPublicKey, signBatch } from '../../../common/device-signature';
import { deviceKeysPath } from '../../../seed/write';
import { METRICS, METRICS_BY_KIND } from '../../../subgraphs/devices/metrics';
import type { Oracle, Viewer } from './oracle';
import type { Prng } from './prng';

export type Maker = (target?: string) => Promise<Record<string, unknown>>;

export interface MutationContext {
  oracle: Oracle;
  rng: Prng;
  dataDir: string;
  /** Grants a consent in-process (consent/consents.ts), returning its id: something for a patient to revoke. */
  grantForRevocation: (patientId: string) => Promise<string>;
  /** Opens a break-the-glass through the API, returning its id: something for compliance to review. */
  openBreakGlass: () => Promise<string>;
}

const JUSTIFICATION = 'Leak test: unconscious patient in the emergency room, no records available';

export class Makers {
  private readonly keys: Record<string, string>;
  private readonly sequences = new Map<string, number>();
  private counter = 0;

  constructor(private readonly ctx: MutationContext) {
    this.keys = JSON.parse(fs.readFileSync(deviceKeysPath(ctx.dataDir), 'utf8'));
  }

  /** A seeded device (its key is known) that this viewer may write to, or any seeded one. */
  deviceFor(v: Viewer): string {
    const o = this.ctx.oracle;
    const seeded = [...o.devices.values()].filter((d) => this.keys[d.id]).sort((a, b) => (a.id < b.id ? -1 : 1));
    const own = seeded.find((d) => v.user.patientId === d.ownerPatientId);
    const home = seeded.find((d) => v.user.institutionId !== null && o.patients.get(d.ownerPatientId)?.institutionId === v.user.institutionId);
    return (own ?? home ?? seeded[0]!).id;
  }

  /** A patient this viewer acts for: themself, or one of their institution's. */
  patientFor(v: Viewer): string {
    const o = this.ctx.oracle;
    if (v.user.patientId) return v.user.patientId;
    const home = [...o.patients.values()].filter((p) => p.institutionId === v.user.institutionId).sort((a, b) => (a.id < b.id ? -1 : 1));
    return (home[0] ?? [...o.patients.values()][0]!).id;
  }

  ingestReadings(v: Viewer): Maker {
    return async (target) => {
      const deviceId = target ?? this.deviceFor(v);
      const device = this.ctx.oracle.devices.get(deviceId);
      const sequence = (this.sequences.get(deviceId) ?? device?.lastSequence ?? 0) + 1;
      this.sequences.set(deviceId, sequence);
      const metric = device ? METRICS_BY_KIND[device.kind][0]! : 'HEART_RATE';
      const value = Math.round((METRICS[metric].min + METRICS[metric].max) / 3);
      const readings = [0, 1].map((k) => ({ metric, value: value + k, recordedAt: new Date(Date.now() - 3_600_000 - (++this.counter) * 1000).toISOString() }));
      const signature = this.keys[deviceId]
        ? signBatch({ deviceId, sequence, readings }, deviceKeyFromSeed(Buffer.from(this.keys[deviceId]!, 'hex')))
        : Buffer.alloc(64, 7).toString('base64url');
      return { input: { deviceId, sequence, readings, signature } };
    };
  }

  registerDevice(v: Viewer): Maker {
    return async (target) => {
      const publicKey = rawPublicKey(generateKeyPairSync('ed25519').privateKey);
      return { input: { ownerPatientId: target ?? this.patientFor(v), kind: 'SMARTWATCH', model: 'Leak Band', serial: `LK-${++this.counter}-${this.ctx.rng.hex(8)}`, publicKey } };
    };
  }

  grantConsent(v: Viewer, granteePractitionerId: string): Maker {
    return async (target) => ({
      input: {
        patientId: target ?? this.patientFor(v),
        grantee: { kind: 'PRACTITIONER', id: granteePractitionerId },
        categories: ['DEVICES'],
        purposes: ['OPERATIONS'],
        // In the future: it changes nothing the other viewers may see now.
        validFrom: new Date(Date.now() + 20 * 86_400_000).toISOString(),
      },
    });
  }

  revokeConsent(v: Viewer): Maker {
    return async (target) => ({ id: target ?? (await this.ctx.grantForRevocation(this.patientFor(v))) });
  }

  breakTheGlass(target: string): Maker {
    return async (other) => ({ patientId: other ?? target, justification: JUSTIFICATION, minutes: 30 });
  }

  reviewBreakGlass(): Maker {
    return async (target) => ({ id: target ?? (await this.ctx.openBreakGlass()), note: 'Reviewed by the leak test' });
  }
}
