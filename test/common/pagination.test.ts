import Database from 'better-sqlite3';
import { GraphQLError } from 'graphql';
import {
  decodeCursor,
  encodeCursor,
  keysetPredicate,
  MAX_PAGE_SIZE,
  orderBy,
  parsePage,
  toConnection,
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
    expect(parsePage({}, 1)).toEqual({ limit: 20, after: null });
    expect(parsePage({ first: MAX_PAGE_SIZE }, 1).limit).toBe(MAX_PAGE_SIZE);
    expect(code(() => parsePage({ first: MAX_PAGE_SIZE + 1 }, 1))).toBe('BAD_USER_INPUT');
    expect(code(() => parsePage({ first: -1 }, 1))).toBe('BAD_USER_INPUT');
    expect(code(() => parsePage({ first: 1.5 }, 1))).toBe('BAD_USER_INPUT');
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
      const conn = toConnection(rows, 10, key);
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
