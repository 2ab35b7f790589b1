import Database from 'better-sqlite3';
import { GraphQLError } from 'graphql';
import {
  decodeCursor,
  encodeCursor,
  keysetPredicate,
  MAX_PAGE_SIZE,
  orderBy,
  fetchOrder,
  parsePage,
  seekPredicates,
  toConnection,
  type PageArgs,
  type SortColumn,
} from '../../common/pagination';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof GraphQLError ? e.extensions.code : 'not a GraphQLError';
  }
  return 'no error';
};

describe('cursors', () => {
  test('round-trip the sort key values', () => {
    const values = ['2026-01-31T08:00:00.000Z', 'lab_abc', 42];
    expect(decodeCursor(encodeCursor(values), 3)).toEqual(values);
  });

  test.each([
    ['not base64url', '%%%'],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['an object', Buffer.from('{"a":1}').toString('base64url')],
    ['another version', Buffer.from('[2,"x"]').toString('base64url')],
    ['a different arity', encodeCursor(['a', 'b'])],
    ['a nested value', Buffer.from('[1,{"x":1}]').toString('base64url')],
    ['a non-finite number', Buffer.from('[1,1e999]').toString('base64url')],
  ])('refuse %s as BAD_USER_INPUT', (_why, cursor) => {
    expect(code(() => decodeCursor(cursor, 1))).toBe('BAD_USER_INPUT');
  });
});

describe('page size', () => {
  test('defaults, bounds and the hard maximum', () => {
    expect(parsePage({}, 1)).toEqual({ limit: 20, after: null, before: null, backward: false });
    expect(parsePage({ last: 5 }, 1)).toEqual({ limit: 5, after: null, before: null, backward: true });
    expect(parsePage({ first: MAX_PAGE_SIZE }, 1).limit).toBe(MAX_PAGE_SIZE);
    expect(code(() => parsePage({ first: MAX_PAGE_SIZE + 1 }, 1))).toBe('BAD_USER_INPUT');
    expect(code(() => parsePage({ first: -1 }, 1))).toBe('BAD_USER_INPUT');
    expect(code(() => parsePage({ first: 1.5 }, 1))).toBe('BAD_USER_INPUT');
    expect(code(() => parsePage({ last: MAX_PAGE_SIZE + 1 }, 1))).toBe('BAD_USER_INPUT');
    expect(code(() => parsePage({ last: -1 }, 1))).toBe('BAD_USER_INPUT');
  });

  test('first and last together are refused, naming the argument', () => {
    let err: unknown;
    try {
      parsePage({ first: 2, last: 2 }, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GraphQLError);
    expect((err as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'last' });
  });

  test('a malformed before cursor is BAD_USER_INPUT naming before', () => {
    let err: unknown;
    try {
      parsePage({ last: 2, before: '%%' }, 1);
    } catch (e) {
      err = e;
    }
    expect((err as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'before' });
  });
});

describe('keyset pagination', () => {
  // A real database, mixed sort directions and many ties on the first column.
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, at TEXT NOT NULL, score INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
  for (let i = 0; i < 137; i++) insert.run(`r${String(i).padStart(3, '0')}`, `2026-01-0${(i % 5) + 1}`, (i * 7) % 11);

  const sorts: SortColumn[][] = [
    [{ column: 'at', direction: 'DESC' }, { column: 'id', direction: 'DESC' }],
    [{ column: 'at', direction: 'ASC' }, { column: 'score', direction: 'DESC' }, { column: 'id', direction: 'ASC' }],
  ];

  test.each(sorts.map((s) => [orderBy(s), s]))('pages in %s cover every row once, in order', (_name, sort) => {
    const all = db.prepare(`SELECT * FROM t ORDER BY ${orderBy(sort)}`).all() as Record<string, string | number>[];
    const key = (r: Record<string, string | number>) => sort.map((s) => r[s.column]!);
    const seen: unknown[] = [];
    let after: (string | number)[] | null = null;
    for (let page = 0; page < 100; page++) {
      let sql = 'SELECT * FROM t';
      let params: Record<string, string | number> = {};
      if (after) {
        const seek = keysetPredicate(sort, after);
        sql += ` WHERE ${seek.sql.replace(/:(k\d)/g, '@$1')}`;
        params = seek.params;
      }
      const rows = db.prepare(`${sql} ORDER BY ${orderBy(sort)} LIMIT 11`).all(params) as Record<string, string | number>[];
      const conn = toConnection(rows, { limit: 10, after: null, before: null, backward: false }, key);
      seen.push(...conn.nodes);
      if (!conn.pageInfo.hasNextPage) {
        expect(conn.nodes.length).toBeLessThanOrEqual(10);
        break;
      }
      after = decodeCursor(conn.pageInfo.endCursor!, sort.length);
    }
    expect(seen).toEqual(all);
  });
});

describe('Relay paging in both directions', () => {
  // The same helpers the subgraphs use (fetchOrder, seekPredicates), on a real database.
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, at TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
  for (let i = 0; i < 23; i++) insert.run(`r${String(i).padStart(2, '0')}`, `2026-01-0${(i % 3) + 1}`);
  const sort: SortColumn[] = [{ column: 'at', direction: 'DESC' }, { column: 'id', direction: 'DESC' }];
  const key = (r: Record<string, string>) => [r.at!, r.id!];
  const all = (db.prepare(`SELECT * FROM t ORDER BY ${orderBy(sort)}`).all() as Record<string, string>[]).map((r) => r.id);

  function fetch(args: PageArgs) {
    const page = parsePage(args, 2);
    const seeks = seekPredicates(sort, page);
    const params = Object.assign({}, ...seeks.map((s) => s.params));
    const where = seeks.length ? ` WHERE ${seeks.map((s) => s.sql.replace(/:(k[ab]\d)/g, '@$1')).join(' AND ')}` : '';
    const rows = db.prepare(`SELECT * FROM t${where} ORDER BY ${orderBy(fetchOrder(sort, page))} LIMIT ${page.limit + 1}`).all(params) as Record<string, string>[];
    return toConnection(rows, page, key);
  }

  test('last pages walk back from the end, in list order, covering every row once', () => {
    const seen: string[][] = [];
    let before: string | null = null;
    for (let i = 0; i < 10; i++) {
      const conn = fetch({ last: 5, before });
      seen.unshift(conn.nodes.map((n) => n.id!));
      expect(conn.pageInfo.startCursor).toBe(conn.edges[0]?.cursor ?? null);
      expect(conn.pageInfo.endCursor).toBe(conn.edges.at(-1)?.cursor ?? null);
      expect(conn.pageInfo.hasNextPage).toBe(before !== null);
      if (!conn.pageInfo.hasPreviousPage) break;
      before = conn.pageInfo.startCursor;
    }
    expect(seen.flat()).toEqual(all);
    expect(seen[0]).toHaveLength(3); // 23 = 3 + 4 × 5: the first page is the short one
  });

  test('last without a cursor is the end of the list', () => {
    const conn = fetch({ last: 4 });
    expect(conn.nodes.map((n) => n.id)).toEqual(all.slice(-4));
    expect(conn.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
  });

  test('after and before together bound the page from both sides', () => {
    const after = fetch({ first: 3 }).pageInfo.endCursor;
    const before = fetch({ last: 3 }).pageInfo.startCursor;
    expect(fetch({ first: 100, after, before }).nodes.map((n) => n.id)).toEqual(all.slice(3, -3));
    expect(fetch({ last: 2, after, before }).nodes.map((n) => n.id)).toEqual(all.slice(-5, -3));
  });

  test('first pages report a previous page once past the start', () => {
    const one = fetch({ first: 10 });
    expect(one.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    const two = fetch({ first: 10, after: one.pageInfo.endCursor });
    expect(two.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    expect(two.nodes.map((n) => n.id)).toEqual(all.slice(10, 20));
  });

  test('an empty page has null cursors and no further page in its direction', () => {
    const first = fetch({ first: 5, after: fetch({ last: 1 }).pageInfo.endCursor });
    expect(first.nodes).toEqual([]);
    expect(first.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
    const last = fetch({ last: 5, before: fetch({ first: 1 }).pageInfo.startCursor });
    expect(last.nodes).toEqual([]);
    expect(last.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });
});
