import { parseArgs } from 'node:util';
import { readEnv } from '../common/config';
export { SEED_USAGE } from './usage';

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  const started = performance.now();
  let lastPrinted = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - lastPrinted < 500) return;
    lastPrinted = now;
    const pct = Math.floor((done / total) * 100);
    const line = `seeding: ${done}/${total} patients (${pct}%), ${((now - started) / 1000).toFixed(1)} s`;
    if (stream.isTTY) stream.write(`\r${line}${done === total ? '\n' : ''}`);
    else stream.write(line + '\n');
  };
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

export async function seedCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { patients: { type: 'string' }, seed: { type: 'string' } }, strict: true });
  const patients = positiveInt(values.patients, 200, 'patients');
  const seedValue = positiveInt(values.seed, 42, 'seed');
  if (patients < 1) throw new Error('--patients must be at least 1');
  const env = readEnv();
  const where = env.DATABASE_URL ? 'PostgreSQL' : `SQLite in ${env.DATA_DIR}`;
  process.stderr.write(`seeding ${patients} patients with seed ${seedValue} into ${where}\n`);
  // Loaded here, not at the top: faker alone takes about half a second to load (cli/usage.ts).
  const { seed } = require('../seed/write') as typeof import('../seed/write');
  const summary = await seed({ patients, seed: seedValue }, env, progressPrinter());
  const counts = Object.entries(summary.counts).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(`seeded ${summary.rows} rows in ${summary.seconds.toFixed(1)} s: ${counts}`);
}
