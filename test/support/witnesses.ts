/**
 * Real witnesses for tests: `custodian witness` (the built dist/cli/main.js) as separate
 * processes, each with its own key file (made by `--generate-key`), data directory and
 * port — as another institution would run one. Used by test/e2e/witness.test.ts, the
 * portal's (test/web/ledger-witnesses.test.ts) and `verify --checkpoint`'s tests.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../common/ports';
import { parseCosignerVerifierKey, type CosignatureVerifier } from '../../ledger/core/cosignature';
import { formatAddCheckpointRequest } from '../../ledger/witness/protocol';
import { CLI } from './hub';
import { spawnNode, waitHealthy, type ServiceProcess } from './processes';

export interface TestWitness {
  name: string;
  keyFile: string;
  dataDir: string;
  port: number;
  url: string;
  verifier: CosignatureVerifier;
  proc?: ServiceProcess;
}

/** Makes a witness key `<name>.test/w` in `dir` (not yet running). */
export async function newWitness(dir: string, name: string): Promise<TestWitness> {
  const keyFile = path.join(dir, `${name}.key`);
  const made = spawnSync(process.execPath, [CLI, 'witness', '--generate-key', `${name}.test/w`, '--out', keyFile], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`witness --generate-key failed: ${made.stderr}`);
  const port = await freePort();
  return { name, keyFile, dataDir: path.join(dir, `${name}-data`), port, url: `http://127.0.0.1:${port}`, verifier: parseCosignerVerifierKey(made.stdout.trim()) };
}

/** Starts the witness for the log of `logVerifierKey` and waits until it answers. */
export async function startWitness(w: TestWitness, logVerifierKey: string): Promise<void> {
  w.proc = spawnNode(`witness-${w.name}`, 'cli/main.js', ['witness', '--key', w.keyFile, '--log', logVerifierKey, '--port', String(w.port), '--data', w.dataDir], { LOG_LEVEL: 'silent' });
  await waitHealthy(w.proc, `${w.url}/healthz`, 20_000);
}

/** LEDGER_WITNESSES for these witnesses. */
export function witnessList(witnesses: readonly TestWitness[]): string {
  return witnesses.map((w) => `${w.verifier.verifierKey}@${w.url}`).join(',');
}

/** POST /add-checkpoint, as a log would (C2SP tlog-witness); the raw answer. */
export function addCheckpoint(w: TestWitness, oldSize: number, proof: readonly Uint8Array[], note: string): Promise<Response> {
  return fetch(`${w.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointRequest(oldSize, proof, note) });
}
