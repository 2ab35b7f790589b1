/**
 * The settings and small pieces issue 9 added, on their own: the research subgraph refuses
 * to run in production without a pseudonym secret or with tiny cells; pseudonyms depend on the secret, stay
 * stable within a project and differ across projects; every text argument is bounded.
 */
import { createHmac } from 'node:crypto';
import { buildSchema } from 'graphql';
import { readEnv } from '../../common/config';
import { argumentLimits, MAX_ID_LENGTH, MAX_TEXT_LENGTH } from '../../common/input-limits';
import { decodeSecret } from '../../common/keys';
import { productionProblems, subgraphRoles, type ProcessRole } from '../../common/production';
import { checkGrant } from '../../consent/consents';
import { pseudonymizer } from '../../subgraphs/research/pseudonyms';
import { suppressSmallCells } from '../../subgraphs/labs/cohort-stats';

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('configuration', () => {
  test('production: research, labs and devices need PSEUDONYM_KEY (the gateway does not); a minimum cell size of at least 5', async () => {
    // Which process needs the secret is common/production.ts's business: the gateway does not.
    const problems = (roles: ProcessRole[], extra = {}) => productionProblems(roles, { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:1', ...extra });
    for (const subgraph of ['research', 'labs', 'devices'] as const) {
      expect((await problems(subgraphRoles(subgraph))).join('\n')).toMatch(/PSEUDONYM_KEY: required by the research, labs and devices subgraphs/);
    }
    expect((await problems(subgraphRoles('patients'))).join('\n')).not.toMatch(/PSEUDONYM_KEY/);
    expect((await problems(['subgraph', 'research'], { PSEUDONYM_KEY: 'c2hvcnQ=' })).join('\n')).toMatch(/PSEUDONYM_KEY: PSEUDONYM_KEY must be base64 of at least 32/);
    expect((await problems(['subgraph', 'research'], { PSEUDONYM_KEY: KEY })).join('\n')).not.toMatch(/PSEUDONYM_KEY/);
    expect((await problems(['gateway'])).join('\n')).not.toMatch(/PSEUDONYM_KEY/);
    expect(() => readEnv({ NODE_ENV: 'production', PSEUDONYM_KEY: KEY, COHORT_MIN_SIZE: '3' })).toThrow(/COHORT_MIN_SIZE: must be at least 5/);
    expect(readEnv({ NODE_ENV: 'production', PSEUDONYM_KEY: KEY }).COHORT_MIN_SIZE).toBe(10);
    // Development keeps working without either (the key is generated into DATA_DIR).
    expect(readEnv({ COHORT_MIN_SIZE: '2' }).COHORT_MIN_SIZE).toBe(2);
  });

  test('a pseudonym secret must be base64 of at least 32 bytes', () => {
    expect(() => decodeSecret('PSEUDONYM_KEY', Buffer.alloc(16).toString('base64'))).toThrow(/at least 32 random bytes/);
    expect(() => decodeSecret('PSEUDONYM_KEY', 'not base64 at all!')).toThrow(/PSEUDONYM_KEY must be base64/);
    expect(decodeSecret('PSEUDONYM_KEY', KEY)).toHaveLength(32);
  });
});

describe('pseudonyms', () => {
  const pseudonym = pseudonymizer(Buffer.alloc(32, 7));
  test('stable within a project, different across projects and across keys', () => {
    expect(pseudonym('proj_a', 'pat_1')).toBe(pseudonym('proj_a', 'pat_1'));
    expect(pseudonym('proj_a', 'pat_1')).not.toBe(pseudonym('proj_b', 'pat_1'));
    expect(pseudonym('proj_a', 'pat_1')).not.toBe(pseudonymizer(Buffer.alloc(32, 8))('proj_a', 'pat_1'));
    expect(pseudonym('proj_a', 'pat_1')).toMatch(/^psn_[A-Za-z0-9_-]{22}$/);
  });

  test('not the old HMAC keyed with a public value', () => {
    const old = 'psn_' + createHmac('sha256', 'custodian-pseudonym:proj_a').update('pat_1').digest('base64url').slice(0, 22);
    expect(pseudonym('proj_a', 'pat_1')).not.toBe(old);
  });
});

describe('small cells', () => {
  const stats = (count: number) => ({ count, mean: 5, min: 4, max: 6, unit: '%' });
  test('withheld below the minimum — the count too — and said why, without the number', () => {
    const small = suppressSmallCells(stats(9), 10);
    expect(small).toEqual({ count: null, mean: null, min: null, max: null, unit: '%', suppressed: true, suppressedReason: expect.stringMatching(/Fewer than 10 patients/) });
    expect(small.suppressedReason).not.toMatch(/\b9\b/);
    expect(suppressSmallCells(stats(10), 10)).toMatchObject({ count: 10, mean: 5, suppressed: false, suppressedReason: null });
  });
});

describe('input limits', () => {
  const schema = buildSchema(`
    input Inner { id: ID, model: String, n: Int, tags: [String!] }
    type Query { x: Int }
    type Mutation {
      breakTheGlass(patientId: ID!, justification: String!): Int
      registerDevice(input: Inner!): Int
      plain(text: String, inner: [Inner!]): Int
    }`);
  const field = (name: string) => schema.getMutationType()!.getFields()[name]!;
  const check = (name: string) => argumentLimits('Mutation', name, field(name).args)!;

  test('ids, strings, nested inputs and lists are bounded; named fields have their own limits', () => {
    expect(() => check('breakTheGlass')({ patientId: 'p'.repeat(MAX_ID_LENGTH), justification: 'j'.repeat(2000) })).not.toThrow();
    expect(() => check('breakTheGlass')({ patientId: 'p'.repeat(MAX_ID_LENGTH + 1), justification: 'ok' })).toThrow(/patientId is longer than 64/);
    expect(() => check('breakTheGlass')({ patientId: 'p', justification: 'j'.repeat(2001) })).toThrow(/justification is longer than 2000/);
    expect(() => check('registerDevice')({ input: { model: 'm'.repeat(101) } })).toThrow(/input.model is longer than 100/);
    expect(() => check('plain')({ text: 't'.repeat(MAX_TEXT_LENGTH + 1) })).toThrow(/text is longer than 200/);
    expect(() => check('plain')({ inner: [{ tags: ['ok', 't'.repeat(MAX_TEXT_LENGTH + 1)] }] })).toThrow(/inner.tags is longer than 200/);
    expect(() => check('plain')({ inner: [{ id: 'i'.repeat(65) }] })).toThrow(/inner.id is longer than 64/);
    let caught: any;
    try {
      check('plain')({ text: 't'.repeat(201) });
    } catch (err) {
      caught = err;
    }
    expect(caught?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'text', maxLength: 200 });
  });
});

describe('grants that contradict themselves', () => {
  test('DEMOGRAPHICS to a project only as identified data', () => {
    const grant = { patientId: 'pat_1', grantee: { kind: 'project' as const, id: 'proj_1' }, categories: ['DEMOGRAPHICS' as const, 'LABS' as const], actions: ['read' as const], purposes: ['RESEARCH' as const], effect: 'permit' as const };
    expect(() => checkGrant(grant)).toThrow(/grant them with identified: true/);
    expect(() => checkGrant({ ...grant, identified: true })).not.toThrow();
    expect(() => checkGrant({ ...grant, categories: ['LABS'] })).not.toThrow();
  });
});
