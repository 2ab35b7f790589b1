/**
 * Operator commands on accounts, run where the hub's data is (same DATA_DIR or
 * DATABASE_URL as the gateway):
 *
 *   custodian invite --role <role> [--patient ID] [--institution ID] [--practitioner ID] [--hours H]
 *   custodian token <username> [--name N] [--scopes read,write] [--days D]
 *   custodian users [--role <role>] [--limit N] [--after CURSOR]
 *
 * Each opens only the databases it needs — the identity database, and for an invite the
 * patients directory, read without migrating (it is the patients subgraph's to migrate) —
 * and loads nothing of the gateway or the subgraphs beyond their entities: an operator
 * waits for these (README, "The CLI", has the timings).
 *
 * `users` pages by a cursor (the last row's `role/username`, the order it lists in), and
 * says how many rows are left and how to get them: no account is silently left out.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DataSource } from 'typeorm';
import { readEnv } from '../common/config';
import { createDataSource } from '../common/database';
import { ROLES, type Role, type Scope } from '../common/roles';
import { createApiToken } from '../gateway/identity/api-tokens';
import { openIdentityDatabase } from '../gateway/identity/database';
import { checkInvite, createInvite, DEFAULT_CODE_TTL_HOURS } from '../gateway/identity/enrolment';
import { User } from '../gateway/identity/entities';
import { findUser } from '../gateway/identity/users';
import { entities as directoryEntities, Institution, Patient, Practitioner } from '../subgraphs/patients/entities';
import { ACCOUNT_USAGE, DEFAULT_USERS_LIMIT, INVITE_USAGE, TOKEN_USAGE, USERS_USAGE, UsageError } from './usage';

export { ACCOUNT_USAGE };

const MAX_USERS_LIMIT = 1000;
const LIST_USERS = 'list them with `npx custodian users`';

/** node:util's parseArgs, its refusals ("Unknown option '--x'") turned into a usage error. */
function args<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string, positionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), usage);
  }
}

function role(value: string | undefined, usage: string): Role | undefined {
  if (value === undefined) return undefined;
  if (!ROLES.includes(value as Role)) throw new UsageError(`no role ${JSON.stringify(value)}: --role must be one of ${ROLES.join(', ')}`, usage);
  return value as Role;
}

async function withIdentity<T>(fn: (db: DataSource) => Promise<T>): Promise<T> {
  const db = await openIdentityDatabase(readEnv());
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/**
 * Checks that the records an invite binds to exist, in the patients subgraph's database:
 * read as it is (the subgraph migrates it when it starts; the CLI only looks).
 */
async function checkDirectory(refs: { patientId?: string; institutionId?: string; practitionerId?: string }): Promise<void> {
  if (!refs.patientId && !refs.institutionId && !refs.practitionerId) return;
  const db = createDataSource({ name: 'patients', entities: directoryEntities, migrations: [] }, readEnv());
  await db.initialize();
  try {
    const exists = async (entity: typeof Patient | typeof Institution, id: string) => {
      try {
        return await db.getRepository(entity).existsBy({ id });
      } catch (err) {
        if (/no such table|does not exist/.test((err as Error).message)) {
          throw new Error('no patients directory here yet: seed one with `npm run seed` (or `npx custodian start`), or set DATA_DIR / DATABASE_URL to the hub\'s');
        }
        throw err;
      }
    };
    if (refs.patientId && !(await exists(Patient, refs.patientId))) throw new Error(`no patient ${refs.patientId}: give a patient record's id (the portal and the GraphQL \`patients\` list show them)`);
    if (refs.institutionId && !(await exists(Institution, refs.institutionId))) throw new Error(`no institution ${refs.institutionId}: give an institution's id (\`npx custodian users\` shows each account's)`);
    if (refs.practitionerId) {
      const practitioner = await db.getRepository(Practitioner).findOneBy({ id: refs.practitionerId });
      if (!practitioner) throw new Error(`no practitioner ${refs.practitionerId}: give a practitioner record's id (\`npx custodian users --role researcher\` shows the researchers')`);
      if (refs.institutionId && practitioner.institutionId !== refs.institutionId) {
        throw new Error(`practitioner ${refs.practitionerId} works at ${practitioner.institutionId}, not ${refs.institutionId}: give --institution ${practitioner.institutionId}`);
      }
    }
  } finally {
    await db.destroy();
  }
}

export async function inviteCommand(argv: string[]): Promise<void> {
  const { values } = args(argv, { role: { type: 'string' }, patient: { type: 'string' }, institution: { type: 'string' }, practitioner: { type: 'string' }, hours: { type: 'string' } }, INVITE_USAGE);
  if (values.role === undefined) throw new UsageError(`which role? --role must be one of ${ROLES.join(', ')}`, INVITE_USAGE);
  const inviteRole = role(values.role, INVITE_USAGE)!;
  const hours = values.hours === undefined ? DEFAULT_CODE_TTL_HOURS : Number(values.hours);
  if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30) throw new UsageError('--hours must be a whole number from 1 to 720', INVITE_USAGE);
  const refs = { patientId: values.patient, institutionId: values.institution, practitionerId: values.practitioner };
  try {
    checkInvite({ role: inviteRole, ...refs });
  } catch (err) {
    throw new UsageError((err as Error).message, INVITE_USAGE);
  }
  await checkDirectory(refs);
  const { code, expiresAt } = await withIdentity((db) => createInvite(db, { role: inviteRole, ...refs, ttlHours: hours }));
  console.log(code);
  process.stderr.write(`enrolment code for a ${inviteRole}, single use, valid until ${expiresAt.toISOString()}\n`);
}

export async function tokenCommand(argv: string[]): Promise<void> {
  const { values, positionals } = args(argv, { name: { type: 'string' }, scopes: { type: 'string' }, days: { type: 'string' } }, TOKEN_USAGE, true);
  const username = positionals[0];
  if (!username) throw new UsageError(`whose token? give a username (${LIST_USERS})`, TOKEN_USAGE);
  if (positionals.length > 1) throw new UsageError(`one username only (got ${positionals.map((p) => JSON.stringify(p)).join(', ')})`, TOKEN_USAGE);
  const scopes = (values.scopes ?? 'read,write').split(',').map((s) => s.trim()) as Scope[];
  const days = values.days === undefined ? 30 : Number(values.days);
  const { token, expiresAt } = await withIdentity(async (db) => {
    const user = await findUser(db, username);
    if (!user) throw new Error(`no user ${JSON.stringify(username)}; ${LIST_USERS}`);
    const name = values.name ?? `cli ${new Date().toISOString().replace(/:/g, '-')}`;
    const { token: minted, record } = await createApiToken(db, user.id, { name, scopes, expiresInDays: days });
    return { token: minted, expiresAt: record.expiresAt };
  });
  console.log(token);
  process.stderr.write(`API token for ${username} (${scopes.join(', ')}), valid until ${expiresAt.toISOString()}; shown only now\n`);
}

/** `role/username`: where a page ended, in the order users are listed. */
function parseCursor(value: string): { role: Role; username: string } {
  const slash = value.indexOf('/');
  const cursorRole = value.slice(0, slash);
  if (slash < 1 || !ROLES.includes(cursorRole as Role) || value.length > 100) {
    throw new UsageError(`--after takes the cursor a previous page printed (role/username), not ${JSON.stringify(value)}`, USERS_USAGE);
  }
  return { role: cursorRole as Role, username: value.slice(slash + 1) };
}

export async function usersCommand(argv: string[]): Promise<void> {
  const { values } = args(argv, { role: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' } }, USERS_USAGE);
  const only = role(values.role, USERS_USAGE);
  const limit = values.limit === undefined ? DEFAULT_USERS_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_USERS_LIMIT) throw new UsageError(`--limit must be a whole number from 1 to ${MAX_USERS_LIMIT}`, USERS_USAGE);
  const after = values.after === undefined ? undefined : parseCursor(values.after);

  const { rows, more } = await withIdentity(async (db) => {
    const query = db.getRepository(User).createQueryBuilder('u');
    if (only) query.andWhere('u.role = :only', { only });
    // Keyset paging on (role, username), the listing order: stable while accounts are added.
    if (after) query.andWhere('(u.role > :role OR (u.role = :role AND u.username > :username))', after);
    const total = await query.clone().getCount();
    const page = await query.orderBy('u.role', 'ASC').addOrderBy('u.username', 'ASC').take(limit).getMany();
    return { rows: page, more: total - page.length };
  });
  for (const u of rows) {
    console.log([u.username.padEnd(28), u.role.padEnd(11), u.patientId ?? u.practitionerId ?? '', u.institutionId ?? ''].join(' ').trimEnd());
  }
  if (rows.length === 0) process.stderr.write(after ? 'no more users after that cursor\n' : `no users${only ? ` with role ${only}` : ''} yet: invite one with \`npx custodian invite\`\n`);
  if (more > 0) {
    const last = rows[rows.length - 1]!;
    const again = [only ? `--role ${only}` : '', values.limit !== undefined ? `--limit ${limit}` : '', `--after ${last.role}/${last.username}`].filter(Boolean).join(' ');
    process.stderr.write(`… ${more} more; next page: npx custodian users ${again}\n`);
  }
}
