/**
 * Ingesting a batch of readings: validated as a whole before anything is written, then
 * written in one transaction. A reading already stored (same device, metric, instant)
 * is skipped, so a device that retries a batch after a lost acknowledgement does not
 * create duplicates.
 */
import type { DataSource } from 'typeorm';
import { In } from 'typeorm';
import { badInput, notFound } from '../../common/errors';
import { newId } from '../../common/ids';
import { Device, DeviceReading } from './entities';
import { METRICS, METRICS_BY_KIND, type Metric } from './metrics';

export const MAX_BATCH = 1000;
/** Device clocks drift; a reading further in the future than this is refused. */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface ReadingInput {
  metric: Metric;
  value: number;
  recordedAt: Date;
}

export interface IngestResult {
  device: Device;
  accepted: number;
  duplicates: number;
}

export async function ingestReadings(
  db: DataSource,
  input: { deviceId: string; readings: ReadingInput[] },
  now = new Date(),
): Promise<IngestResult> {
  const { readings } = input;
  if (readings.length === 0) throw badInput('A batch needs at least one reading', 'readings');
  if (readings.length > MAX_BATCH) throw badInput(`A batch holds at most ${MAX_BATCH} readings`, 'readings');

  const device = await db.getRepository(Device).findOneBy({ id: input.deviceId });
  if (!device) throw notFound('Device', input.deviceId);

  const allowed = METRICS_BY_KIND[device.kind];
  const unique = new Map<string, ReadingInput>();
  readings.forEach((r, i) => {
    const where = `readings[${i}]`;
    if (!allowed.includes(r.metric)) throw badInput(`${where}: a ${device.kind} does not report ${r.metric}`, where);
    const spec = METRICS[r.metric];
    if (!Number.isFinite(r.value) || r.value < spec.min || r.value > spec.max) {
      throw badInput(`${where}: ${r.metric} ${r.value} is outside ${spec.min}..${spec.max} ${spec.unit}`, where);
    }
    if (r.recordedAt.getTime() - now.getTime() > MAX_CLOCK_SKEW_MS) {
      throw badInput(`${where}: recordedAt is in the future`, where);
    }
    unique.set(`${r.metric}|${r.recordedAt.toISOString()}`, r);
  });

  return db.transaction(async (tx) => {
    const repo = tx.getRepository(DeviceReading);
    const instants = [...new Set([...unique.values()].map((r) => r.recordedAt.toISOString()))];
    const existing = new Set<string>();
    for (let i = 0; i < instants.length; i += 500) {
      const rows = await repo.find({
        select: { metric: true, recordedAt: true },
        where: { deviceId: device.id, recordedAt: In(instants.slice(i, i + 500)) as never },
      });
      for (const row of rows) existing.add(`${row.metric}|${row.recordedAt.toISOString()}`);
    }
    const fresh = [...unique.entries()].filter(([key]) => !existing.has(key)).map(([, r]) => r);
    for (let i = 0; i < fresh.length; i += 200) {
      await repo
        .createQueryBuilder()
        .insert()
        .values(
          fresh.slice(i, i + 200).map((r) => ({
            id: newId('rdg'),
            deviceId: device.id,
            metric: r.metric,
            value: r.value,
            unit: METRICS[r.metric].unit,
            recordedAt: r.recordedAt,
          })),
        )
        .execute();
    }
    return { device, accepted: fresh.length, duplicates: readings.length - fresh.length };
  });
}
