/**
 * `custodian users`, `token` and `invite`, run as the operator runs them: the built CLI
 * as a child process on a small seeded world (SQLite, or PostgreSQL when DATABASE_URL is
 * set). Paging shows every account exactly once across pages and says when there are
 * more; every mistake is answered with what to do, and changes nothing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import { openIdentityDatabase } from '../../gateway/identity/database';
import { EnrolmentCode, User } from '../../gateway/identity/entities';
import { seed } from '../../seed/write';
import { freshDatabase, type TestDatabase } from '../support/database';
import { CLI } from '../support/hub';

const run = promisify(execFile);

let database: TestDatabase;
let identity: DataSource;
let everyone: { username: string; role: string }[];

beforeAll(async () => {
  database = await freshDatabase();
  await seed({ patients: 12, seed: 5 }, database.env);
  identity = await openIdentityDatabase(database.env);
  everyone = await identity.getRepository(User).find({ select: { username: true, role: true } });
}, 120_000);
afterAll(async () => {
  await identity?.destroy();
  await database?.drop();
});

/** The CLI with this test's database and nothing else of the runner's environment. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...argv], { env: { PATH: process.env.PATH ?? '', ...database.vars }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}

const usernames = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[0]!);

describe('users', () => {
  test('pages with --limit and --after: every account once, in order, each page saying how many are left', async () => {
    expect(everyone.length).toBeGreaterThan(15); // enough for several pages of 7
    const seen: string[] = [];
    let args = ['users', '--limit', '7'];
    for (let page = 0; ; page++) {
      expect(page).toBeLessThan(everyone.length); // no endless paging
      const { code, stdout, stderr } = await cli(...args);
      expect(code).toBe(0);
      const rows = usernames(stdout);
      seen.push(...rows);
      const left = everyone.length - seen.length;
      if (left === 0) {
        expect(stderr).not.toContain('more');
        break;
      }
      expect(rows).toHaveLength(7);
      // "… N more; next page: npx custodian users --limit 7 --after <cursor>"
      const next = stderr.match(/… (\d+) more; next page: npx custodian (users .*)$/m);
      expect(next).not.toBeNull();
      expect(Number(next![1])).toBe(left);
      args = next![2]!.split(' ');
    }
    expect(seen).toHaveLength(everyone.length);
    expect(new Set(seen)).toEqual(new Set(everyone.map((u) => u.username)));
  });

  test('the default page is 50 and says what it left out; --role pages within the role', async () => {
    const all = await cli('users');
    expect(usernames(all.stdout)).toHaveLength(Math.min(50, everyone.length));
    if (everyone.length > 50) expect(all.stderr).toContain(`… ${everyone.length - 50} more; next page:`);
    const researchers = everyone.filter((u) => u.role === 'researcher').map((u) => u.username);
    expect(researchers.length).toBeGreaterThan(1);
    const first = await cli('users', '--role', 'researcher', '--limit', '1');
    expect(usernames(first.stdout)).toHaveLength(1);
    const cursor = first.stderr.match(/--after (\S+)/)![1]!;
    expect(first.stderr).toContain(`… ${researchers.length - 1} more; next page: npx custodian users --role researcher --limit 1 --after ${cursor}`);
    const rest = await cli('users', '--role', 'researcher', '--after', cursor);
    expect([...usernames(first.stdout), ...usernames(rest.stdout)].sort()).toEqual([...researchers].sort());
    expect(rest.stderr).not.toContain('more');
  });

  test('a bad role, limit or cursor is refused with what to give instead', async () => {
    const role = await cli('users', '--role', 'nurse');
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('no role "nurse": --role must be one of patient, clinician, researcher, compliance, admin');
    expect(role.stdout).toBe('');
    const limit = await cli('users', '--limit', 'lots');
    expect([limit.code, limit.stderr]).toEqual([2, expect.stringContaining('--limit must be a whole number from 1 to 1000')]);
    const cursor = await cli('users', '--after', 'bob');
    expect([cursor.code, cursor.stderr]).toEqual([2, expect.stringContaining('--after takes the cursor a previous page printed (role/username)')]);
    const unknown = await cli('users', '--all');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--all'");
    expect(unknown.stderr).toContain('usage: custodian users [--role R] [--limit N] [--after CURSOR]');
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('token', () => {
  test('an unknown user is named, with where to find the right one; a missing username gets the usage', async () => {
    const unknown = await cli('token', 'no.such.person');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('custodian: no user "no.such.person"; list them with `npx custodian users`\n');
    expect(unknown.stdout).toBe('');
    const missing = await cli('token');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('whose token? give a username');
    expect(missing.stderr).toContain('usage: custodian token <username>');
  });

  test('a known user gets a token', async () => {
    const minted = await cli('token', everyone[0]!.username, '--scopes', 'read');
    expect(minted.code).toBe(0);
    expect(minted.stdout.trim()).toMatch(/^\S{20,}$/);
  });
});

describe('invite', () => {
  const codes = () => identity.getRepository(EnrolmentCode).count();

  test('a researcher without a practitioner record is refused, and no code is made', async () => {
    const before = await codes();
    const institutionId = (await identity.getRepository(User).findOneByOrFail({ role: 'researcher' })).institutionId!;
    const refused = await cli('invite', '--role', 'researcher', '--institution', institutionId);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('a researcher invite needs --practitioner <id> (the practitioner record that works on research projects)');
    expect(refused.stdout).toBe('');
    expect(await codes()).toBe(before);
  });

  test('a researcher with a practitioner record of that institution gets a code', async () => {
    const researcher = await identity.getRepository(User).findOneByOrFail({ role: 'researcher' });
    const before = await codes();
    const ok = await cli('invite', '--role', 'researcher', '--institution', researcher.institutionId!, '--practitioner', researcher.practitionerId!);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toMatch(/^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$/);
    expect(await codes()).toBe(before + 1);
  });

  test('no role, a bad role, an unknown patient: each says what to do', async () => {
    const none = await cli('invite');
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('which role? --role must be one of patient, clinician, researcher, compliance, admin')]);
    const bad = await cli('invite', '--role', 'doctor', '--institution', 'inst_x');
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('no role "doctor": --role must be one of')]);
    const patient = await cli('invite', '--role', 'patient', '--patient', 'pat_nobody');
    expect([patient.code, patient.stderr]).toEqual([1, expect.stringContaining("no patient pat_nobody: give a patient record's id")]);
  });
});
