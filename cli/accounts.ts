/**
 * Operator commands on accounts, run where the hub's data is (same DATA_DIR or
 * DATABASE_URL as the gateway):
 *
 *   custodian invite --role <role> [--patient ID] [--institution ID] [--practitioner ID] [--hours H]
 *   custodian token <username> [--name N] [--scopes read,write] [--days D]
 *   custodian users [--role <role>] [--limit N]
 */
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { readEnv } from '../common/config';
import { openDatabase } from '../common/database';
import { ROLES, SCOPES, type Role, type Scope } from '../common/signed-identity';
import { createApiToken } from '../gateway/identity/api-tokens';
import { openIdentityDatabase } from '../gateway/identity/database';
import { checkInvite, createInvite, DEFAULT_CODE_TTL_HOURS } from '../gateway/identity/enrolment';
import { User } from '../gateway/identity/entities';
import { findUser } from '../gateway/identity/users';
import { SUBGRAPHS } from '../subgraphs';
import { databaseSpec } from '../subgraphs/kit/server';
import { Institution, Patient, Practitioner } from '../subgraphs/patients/entities';

export const ACCOUNT_USAGE = `  invite --role <${ROLES.join('|')}> [--patient ID] [--institution ID] [--practitioner ID] [--hours H]
                                 print a one-time enrolment code for a passkey registration
  token <username> [--name N] [--scopes ${SCOPES.join(',')}] [--days D]
                                 mint an API token for a user (shown once)
  users [--role R] [--limit N]   list accounts`;

async function withIdentity<T>(fn: (db: DataSource) => Promise<T>): Promise<T> {
  const db = await openIdentityDatabase(readEnv());
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** Checks that the records an invite binds to exist, in the patients subgraph's database. */
async function checkDirectory(refs: { patientId?: string; institutionId?: string; practitionerId?: string }): Promise<void> {
  const db = await openDatabase(databaseSpec(SUBGRAPHS.patients), readEnv());
  try {
    if (refs.patientId && !(await db.getRepository(Patient).existsBy({ id: refs.patientId }))) throw new Error(`no patient ${refs.patientId}`);
    if (refs.institutionId && !(await db.getRepository(Institution).existsBy({ id: refs.institutionId }))) {
      throw new Error(`no institution ${refs.institutionId}`);
    }
    if (refs.practitionerId) {
      const practitioner = await db.getRepository(Practitioner).findOneBy({ id: refs.practitionerId });
      if (!practitioner) throw new Error(`no practitioner ${refs.practitionerId}`);
      if (refs.institutionId && practitioner.institutionId !== refs.institutionId) {
        throw new Error(`practitioner ${refs.practitionerId} works at ${practitioner.institutionId}, not ${refs.institutionId}`);
      }
    }
  } finally {
    await db.destroy();
  }
}

export async function inviteCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { role: { type: 'string' }, patient: { type: 'string' }, institution: { type: 'string' }, practitioner: { type: 'string' }, hours: { type: 'string' } },
    strict: true,
  });
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const hours = values.hours === undefined ? DEFAULT_CODE_TTL_HOURS : Number(values.hours);
  if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30) throw new Error('--hours must be a whole number from 1 to 720');
  const refs = { patientId: values.patient, institutionId: values.institution, practitionerId: values.practitioner };
  checkInvite({ role, ...refs });
  await checkDirectory(refs);
  const { code, expiresAt } = await withIdentity((db) => createInvite(db, { role, ...refs, ttlHours: hours }));
  console.log(code);
  process.stderr.write(`enrolment code for a ${role}, single use, valid until ${expiresAt.toISOString()}\n`);
}

export async function tokenCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, days: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const username = positionals[0];
  if (!username || positionals.length > 1) throw new Error('usage: custodian token <username> [--name N] [--scopes read,write] [--days D]');
  const scopes = (values.scopes ?? 'read,write').split(',').map((s) => s.trim()) as Scope[];
  const days = values.days === undefined ? 30 : Number(values.days);
  const { token, expiresAt } = await withIdentity(async (db) => {
    const user = await findUser(db, username);
    if (!user) throw new Error(`no user ${JSON.stringify(username)} (see \`custodian users\`)`);
    const name = values.name ?? `cli ${new Date().toISOString().replace(/:/g, '-')}`;
    const { token: minted, record } = await createApiToken(db, user.id, { name, scopes, expiresInDays: days });
    return { token: minted, expiresAt: record.expiresAt };
  });
  console.log(token);
  process.stderr.write(`API token for ${username} (${scopes.join(', ')}), valid until ${expiresAt.toISOString()}; shown only now\n`);
}

export async function usersCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string' }, limit: { type: 'string' } }, strict: true });
  if (values.role && !ROLES.includes(values.role as Role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  const users = await withIdentity((db) =>
    db.getRepository(User).find({ where: values.role ? { role: values.role as Role } : {}, order: { role: 'ASC', username: 'ASC' }, take: limit }),
  );
  for (const u of users) {
    console.log([u.username.padEnd(28), u.role.padEnd(11), u.patientId ?? u.practitionerId ?? '', u.institutionId ?? ''].join(' ').trimEnd());
  }
}
