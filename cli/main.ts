/**
 * `npx custodian <command>`: the operator's tool.
 */
import 'reflect-metadata';
import { ACCOUNT_USAGE, inviteCommand, tokenCommand, usersCommand } from './accounts';
import { SEED_USAGE, seedCommand } from './seed';
import { VERIFY_USAGE, verifyCommand } from './verify';
import { KEYS_LEDGER_USAGE, rotateLedgerKey } from './keys-ledger';
import { startCommand } from './start';

const USAGE = `usage: custodian <command>

  start                          run the whole hub (seeds demo data on first start)
  ${SEED_USAGE}
${ACCOUNT_USAGE}
${VERIFY_USAGE}
${KEYS_LEDGER_USAGE}
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  start: () => startCommand(),
  seed: seedCommand,
  invite: inviteCommand,
  token: tokenCommand,
  users: usersCommand,
  verify: verifyCommand,
  // Temporary: only `keys rotate ledger` here; the lead merges this with cli/keys.ts (identity, session).
  keys: async (argv) => {
    if (argv[0] !== 'rotate' || argv[1] !== 'ledger') throw new Error('usage: custodian keys rotate ledger [--out FILE]');
    await rotateLedgerKey(argv.slice(2));
  },
};

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  await command(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`custodian: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
