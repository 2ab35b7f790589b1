/**
 * `custodian keys rotate ledger [--out FILE]` — adds a new note key for the ledger's
 * checkpoints (ledger/FORMAT.md, "Key rotation"). Same name (the origin), new key, so a
 * new key id.
 *
 * - Development (the key lives in DATA_DIR/keys/): the current key file becomes
 *   `ledger-note.previous.key` and a new `ledger-note.key` is written. A running worker
 *   reads its keys before every checkpoint, so its next checkpoint (after the next
 *   appended event) announces the new key, signed by both, with no restart.
 * - Production (NODE_ENV=production, or LEDGER_NOTE_KEY set): nothing is written where
 *   the workers read it. The new `PRIVATE+KEY+…` line is printed (or written to --out,
 *   mode 0600), with how to deploy it: LEDGER_NOTE_KEY=<new>,
 *   LEDGER_NOTE_KEY_PREVIOUS=<old>, then a rolling restart of the ledger workers.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { readEnv } from '../common/config';
import { readLedgerEnv } from '../ledger/config';
import { generateNoteKey, isValidKeyName, parseSignerKey } from '../ledger/core/note';
import { loadLedgerNoteKey, noteKeyPath, previousNoteKeyPath, rotateNoteKeyFiles } from '../ledger/core/note-key';
import { openLedgerDatabase } from '../ledger/store/database';
import { currentLedgerKey } from '../ledger/store/ledger-keys';

export { KEYS_LEDGER_USAGE } from './usage';

const DEFAULT_ORIGIN = 'custodian.local/ledger';

export async function rotateLedgerKey(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' } }, strict: true });
  if (process.env.NODE_ENV === 'production' || process.env.LEDGER_NOTE_KEY) return printNewKey(values.out);
  if (values.out) throw new Error('--out is for production keys (NODE_ENV=production or LEDGER_NOTE_KEY set); in development the key is written to DATA_DIR/keys/');
  await rotateKeyFiles();
}

/** Production: the operator deploys the printed key; this process touches no key store. */
function printNewKey(out: string | undefined): void {
  const given = process.env.LEDGER_NOTE_KEY;
  // The same name as the key it replaces: a verifier of this log knows it by that name.
  let name = process.env.LEDGER_ORIGIN ?? DEFAULT_ORIGIN;
  if (given?.trim().startsWith('PRIVATE+KEY+')) name = parseSignerKey(given.trim()).name;
  if (!isValidKeyName(name)) throw new Error(`LEDGER_ORIGIN ${JSON.stringify(name)} is not a valid key name`);
  const pair = generateNoteKey(name);
  if (out) {
    fs.writeFileSync(out, `${pair.signerKey}\n`, { flag: 'wx', mode: 0o600 });
    process.stdout.write(`wrote the new ledger note key to ${out} (mode 0600)\n`);
  } else {
    process.stdout.write(`${pair.signerKey}\n`);
  }
  process.stderr.write(
    [
      `new verifier key: ${pair.verifierKey}`,
      'To deploy it, on every ledger worker:',
      `  LEDGER_NOTE_KEY=<the new PRIVATE+KEY line${out ? `, or ${out}` : ''}>`,
      '  LEDGER_NOTE_KEY_PREVIOUS=<the current key, as LEDGER_NOTE_KEY holds it now>',
      'then restart the workers one by one. The first restarted worker announces the new key in its',
      'next checkpoint, signed by both keys; workers not yet restarted stop signing (they log why).',
      'Check GET /ledger/keys, then drop LEDGER_NOTE_KEY_PREVIOUS at the next restart.',
      '',
    ].join('\n'),
  );
}

/** Development: rotate the key files, unless the last rotation is not announced yet. */
async function rotateKeyFiles(): Promise<void> {
  const env = readEnv();
  const ledgerEnv = readLedgerEnv();
  const db = await openLedgerDatabase(env);
  try {
    const recorded = await currentLedgerKey(db);
    const onFile = loadLedgerNoteKey({ dataDir: env.DATA_DIR, name: ledgerEnv.LEDGER_ORIGIN });
    if (recorded && recorded !== onFile.verifierKey) {
      throw new Error(
        `the last rotation is not announced yet: the ledger still signs with ${recorded}, the key file holds ${onFile.verifierKey}. ` +
          'A running worker announces it with the checkpoint after the next event; rotate again after that.',
      );
    }
    const { previous, current } = rotateNoteKeyFiles(env.DATA_DIR, ledgerEnv.LEDGER_ORIGIN);
    process.stdout.write(
      [
        `ledger note key rotated in ${noteKeyPath(env.DATA_DIR)} (the old one kept as ${previousNoteKeyPath(env.DATA_DIR)})`,
        `old verifier key: ${previous.verifierKey}`,
        `new verifier key: ${current.verifierKey}`,
        'The running ledger worker announces it with its next checkpoint (signed by both keys); see GET /ledger/keys.',
        '',
      ].join('\n'),
    );
  } finally {
    await db.destroy();
  }
}
