/**
 * `custodian witness`: a C2SP tlog-witness run by another institution, as its own process
 * with its own key and storage (ledger/witness/). Two forms:
 *
 *   witness --generate-key <name> --out <file>   write a cosigner signer key (0600, never
 *                                                overwriting) and print its verifier key
 *   witness --key <file> --log <vkey> [--log …] [--port P] [--host H] [--data DIR]
 *                                                serve POST /add-checkpoint
 *
 * Bad arguments exit 2 with a message (as `custodian verify` does), not a stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateCosignerKey, parseCosignerSignerKey, CosignatureError } from '../ledger/core/cosignature';
import { NoteError, parseVerifierKey } from '../ledger/core/note';
import { createWitnessServer, listen } from '../ledger/witness/server';
import { WitnessStateStore } from '../ledger/witness/state';
import { Witness } from '../ledger/witness/witness';
import { createLogger } from '../common/logger';
import { stopOnSignals } from '../common/lifecycle';
import { WITNESS_USAGE } from './usage';

export { WITNESS_USAGE };


const DEFAULT_PORT = 7380;

class UsageError extends Error {}

export async function witnessCommand(argv: string[]): Promise<void> {
  try {
    await run(argv);
  } catch (err) {
    if (err instanceof UsageError || err instanceof CosignatureError || err instanceof NoteError) {
      process.stderr.write(`custodian witness: ${err.message}\n\nusage:\n${WITNESS_USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function run(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'generate-key': { type: 'string' },
        out: { type: 'string' },
        key: { type: 'string' },
        log: { type: 'string', multiple: true },
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  if (values['generate-key'] !== undefined) {
    if (!values.out) throw new UsageError('--generate-key needs --out <file>');
    const pair = generateCosignerKey(values['generate-key']);
    fs.mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
    try {
      // wx: an existing key is someone's identity as a witness; never overwrite it.
      fs.writeFileSync(values.out, `${pair.signerKey}\n`, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${values.out} exists; not overwriting a key`);
      throw err;
    }
    process.stdout.write(`${pair.verifierKey}\n`);
    return;
  }

  if (!values.key) throw new UsageError('give --key <file> (or --generate-key <name> --out <file>)');
  const logKeys = values.log ?? [];
  if (logKeys.length === 0) throw new UsageError('give at least one --log <log verifier key>');
  for (const key of logKeys) parseVerifierKey(key); // a typo stops here, with its reason
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  let keyText: string;
  try {
    keyText = fs.readFileSync(values.key, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --key ${values.key}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const signer = parseCosignerSignerKey(keyText.trim());
  const store = new WitnessStateStore(path.resolve(values.data ?? path.join('.data', 'witness')));
  const witness = new Witness({ signer, logKeys, store });
  const log = createLogger('witness');
  const server = createWitnessServer(witness, log);
  const bound = await listen(server, port, values.host ?? '127.0.0.1');
  // One plain line that scripts and tests read for the port (with --port 0) and the key.
  process.stdout.write(`witness ${signer.name} listening on http://${values.host ?? '127.0.0.1'}:${bound} verifier ${signer.verifierKey}\n`);
  stopOnSignals(() => new Promise<void>((resolve) => server.close(() => resolve())));
}
