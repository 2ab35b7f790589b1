/**
 * `npx custodian <command>`: the operator's tool.
 */
import 'reflect-metadata';
import { ACCOUNT_USAGE, inviteCommand, tokenCommand, usersCommand } from './accounts';
import { SEED_USAGE, seedCommand } from './seed';
import { VERIFY_USAGE, verifyCommand } from './verify';
import { KEYS_USAGE, keysCommand } from './keys';
import { startCommand } from './start';
import { StartupRefused } from '../common/production';

const USAGE = `usage: custodian <command>

  start                          run the whole hub (seeds demo data on first start)
  ${SEED_USAGE}
${ACCOUNT_USAGE}
${VERIFY_USAGE}
${KEYS_USAGE}
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  start: () => startCommand(),
  seed: seedCommand,
  invite: inviteCommand,
  token: tokenCommand,
  users: usersCommand,
  verify: verifyCommand,
  keys: keysCommand,
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
  // A refused production start is one message listing every problem: print it as it is.
  if (err instanceof StartupRefused) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`custodian: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
