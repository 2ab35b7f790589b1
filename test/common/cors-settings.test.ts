/** CORS_ORIGINS as read at start-up: exact origins only, `*` never in production. */
import { readEnv } from '../../common/config';

const problem = (env: Record<string, string>) => {
  try {
    readEnv({ NODE_ENV: 'test', ...env });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

test('empty by default: no origin is allowed', () => {
  expect(readEnv({ NODE_ENV: 'test' }).CORS_ORIGINS).toEqual([]);
  expect(readEnv({ NODE_ENV: 'test', CORS_ORIGINS: ' ' }).CORS_ORIGINS).toEqual([]);
});

test('a comma-separated list of exact origins', () => {
  expect(readEnv({ NODE_ENV: 'test', CORS_ORIGINS: 'https://portal.example.org, http://localhost:5173' }).CORS_ORIGINS).toEqual([
    'https://portal.example.org',
    'http://localhost:5173',
  ]);
});

test.each([
  ['a path', 'https://portal.example.org/app'],
  ['a trailing slash', 'https://portal.example.org/'],
  ['upper case', 'https://Portal.example.org'],
  ['no scheme', 'portal.example.org'],
  ['another scheme', 'ftp://portal.example.org'],
  ['a query', 'https://portal.example.org?x=1'],
  ['a default port written out', 'https://portal.example.org:443'],
])('an entry with %s is refused at start-up, named', (_why, entry) => {
  expect(problem({ CORS_ORIGINS: `https://ok.example, ${entry}` })).toMatch(/CORS_ORIGINS/);
  expect(problem({ CORS_ORIGINS: `https://ok.example, ${entry}` })).toContain(JSON.stringify(entry));
});

test('* (any origin) is for development only', () => {
  expect(readEnv({ NODE_ENV: 'development', CORS_ORIGINS: '*' }).CORS_ORIGINS).toEqual(['*']);
  expect(problem({ NODE_ENV: 'production', CORS_ORIGINS: '*' })).toMatch(/CORS_ORIGINS: \* \(any origin\) is refused in production/);
  expect(problem({ NODE_ENV: 'production', CORS_ORIGINS: 'https://portal.example.org' })).toBeNull();
});
