/**
 * `npx custodian <command>`: the operator's tool.
 *
 * Each command's module is loaded only when that command runs: loading every one of
 * them (TypeORM, the seed's faker, the subgraphs, OpenTelemetry...) cost about 2.5 s
 * before anything was done. Usage texts live in ./usage.ts for the same reason.
 */
import 'reflect-metadata';
import { ACCOUNT_USAGE, KEYS_USAGE, SEED_USAGE, UsageError, VERIFY_USAGE, WITNESS_USAGE } from './usage';

const USAGE = `usage: custodian <command>

  start                          run the whole hub (seeds demo data on first start)
  ${SEED_USAGE}
${ACCOUNT_USAGE}
${VERIFY_USAGE}
${KEYS_USAGE}
${WITNESS_USAGE}
`;

// require(), not import(): synchronous CommonJS loading, as everywhere else in dist/.
const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
  start: async () => (require('./start') as typeof import('./start')).startCommand,
  seed: async () => (require('./seed') as typeof import('./seed')).seedCommand,
  invite: async () => (require('./accounts') as typeof import('./accounts')).inviteCommand,
  token: async () => (require('./accounts') as typeof import('./accounts')).tokenCommand,
  users: async () => (require('./accounts') as typeof import('./accounts')).usersCommand,
  verify: async () => (require('./verify') as typeof import('./verify')).verifyCommand,
  keys: async () => (require('./keys') as typeof import('./keys')).keysCommand,
  witness: async () => (require('./witness') as typeof import('./witness')).witnessCommand,
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
  await (await command())(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // A refused production start is one message listing every problem: print it as it is.
  // (Named, not imported: common/production.ts loads ioredis, and the CLI's other commands never need it.)
  if (err instanceof Error && err.constructor.name === 'StartupRefused') {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof UsageError) {
    process.stderr.write(`custodian: ${err.message}${err.usage ? `\nusage: custodian ${err.usage}` : ''}\n`);
    process.exit(2);
  }
  process.stderr.write(`custodian: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
