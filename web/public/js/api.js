// @ts-check
/**
 * Talking to the gateway: the passkey endpoints under /auth, GraphQL at /graphql, and
 * the ledger under /ledger. Errors become ApiError with a code and a sentence a person
 * can read; nothing of a server's internals (stack traces) is ever shown.
 */

/**
 * @typedef {{ message: string, path?: ReadonlyArray<string | number>, extensions?: { code?: string, category?: string, [k: string]: unknown } }} GraphQLError
 * @typedef {{ data?: any, errors?: GraphQLError[] }} GraphQLResult
 * @typedef {{ token: string, refreshToken: string, expiresIn: number, username?: string }} Tokens
 */

export class ApiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

const KEY = 'custodian.session';

/** The signed-in session, kept for this tab only (sessionStorage). */
export const session = {
  /** @returns {{ token: string, refreshToken: string, username: string } | null} */
  get() {
    try {
      const raw = sessionStorage.getItem(KEY);
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  },
  /**
   * @param {Tokens} tokens
   * @param {string} username
   */
  save(tokens, username) {
    sessionStorage.setItem(KEY, JSON.stringify({ token: tokens.token, refreshToken: tokens.refreshToken, username }));
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

/** Called when the session cannot be renewed: the app shows the sign-in page. */
let onSignedOut = () => {};
/** @param {() => void} fn */
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

/** Readable sentences for the error codes the hub uses. */
const READABLE = /** @type {Record<string, string>} */ ({
  UNAUTHENTICATED: 'You are not signed in, or your session has ended. Please sign in again.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on our side. Please try again in a moment.',
  INTERNAL: 'Something went wrong on our side. Please try again in a moment.',
  GRAPHQL_VALIDATION_FAILED: 'This part of the portal is not available on this server yet.',
  GRAPHQL_PARSE_FAILED: 'This part of the portal is not available on this server yet.',
  NETWORK: 'The server cannot be reached. Check your connection and try again.',
});

/**
 * A sentence for an error: the server's own message for errors meant for the user
 * (BAD_USER_INPUT, FORBIDDEN, NOT_FOUND, …), a fixed one for the rest.
 * @param {unknown} err
 */
export function readable(err) {
  if (err instanceof ApiError) return READABLE[err.code] && err.code !== 'UNAUTHENTICATED' ? READABLE[err.code] : err.message;
  const e = /** @type {GraphQLError} */ (err);
  const code = e?.extensions?.code;
  if (code && READABLE[code]) return READABLE[code];
  if (typeof e?.message === 'string' && e.message.length < 300) return e.message;
  return READABLE.INTERNAL;
}

/**
 * @param {string} url
 * @param {RequestInit} init
 */
async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError('NETWORK', READABLE.NETWORK);
  }
}

/**
 * POST JSON to a sign-in endpoint; its errors are GraphQL's {errors: [{message, extensions: {code}}]}.
 * @param {string} path
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export async function authPost(path, body, headers = {}) {
  const res = await send(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (res.status === 204) return null;
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const error = json?.errors?.[0];
    throw new ApiError(error?.extensions?.code ?? `HTTP_${res.status}`, typeof error?.message === 'string' ? error.message : READABLE.INTERNAL);
  }
  return json;
}

let refreshing = /** @type {Promise<boolean> | null} */ (null);
/** Trades the refresh token for a new pair, once at a time. */
function refresh() {
  refreshing ??= (async () => {
    const current = session.get();
    if (!current) return false;
    try {
      const tokens = await authPost('/auth/refresh', { refreshToken: current.refreshToken });
      session.save(tokens, current.username);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Ends the session here and at the server. */
export async function signOut() {
  const current = session.get();
  session.clear();
  if (current) await authPost('/auth/logout', {}, { authorization: `Bearer ${current.token}` }).catch(() => {});
}

/**
 * Sends a request with the session's bearer token; renews it once if it expired.
 * @param {string} url
 * @param {RequestInit & { headers?: Record<string, string> }} init
 * @returns {Promise<Response>}
 */
export async function authorized(url, init = {}) {
  for (let attempt = 0; ; attempt++) {
    const current = session.get();
    if (!current) {
      onSignedOut();
      throw new ApiError('UNAUTHENTICATED', READABLE.UNAUTHENTICATED);
    }
    const res = await send(url, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${current.token}` } });
    if (res.status !== 401) return res;
    if (attempt === 0 && (await refresh())) continue;
    session.clear();
    onSignedOut();
    throw new ApiError('UNAUTHENTICATED', READABLE.UNAUTHENTICATED);
  }
}

/**
 * A GraphQL request. Returns data and errors as they come (partial data is normal:
 * a field consent hides is null with a FORBIDDEN error at its path); throws ApiError
 * only when there is no answer at all.
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 * @param {{ purpose?: string }} [options]
 * @returns {Promise<GraphQLResult>}
 */
export async function graphql(query, variables = {}, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json' };
  if (options.purpose) headers['x-purpose-of-use'] = options.purpose;
  const res = await authorized('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const json = await res.json().catch(() => null);
  if (!json || typeof json !== 'object') throw new ApiError('INTERNAL', READABLE.INTERNAL);
  if (!json.data && json.errors?.length) {
    const first = json.errors[0];
    throw new ApiError(first.extensions?.code ?? 'INTERNAL', readable(first));
  }
  return json;
}

/**
 * Like graphql(), but any error is thrown: for mutations and all-or-nothing reads.
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 * @param {{ purpose?: string }} [options]
 */
export async function graphqlStrict(query, variables = {}, options = {}) {
  const result = await graphql(query, variables, options);
  if (result.errors?.length) {
    const first = result.errors[0];
    throw new ApiError(first.extensions?.code ?? 'INTERNAL', readable(first));
  }
  return result.data;
}

/**
 * The errors at a path or below it, e.g. ['patient', 'labResults'].
 * @param {GraphQLError[] | undefined} errors
 * @param {ReadonlyArray<string | number>} path
 */
export function errorsAt(errors, path) {
  return (errors ?? []).filter((e) => e.path && path.every((p, i) => e.path?.[i] === p));
}

/**
 * Why data at a path is missing, if consent hid it: the FORBIDDEN error there (or, unless
 * `exact`, below it).
 * @param {GraphQLError[] | undefined} errors
 * @param {ReadonlyArray<string | number>} path
 * @param {{ exact?: boolean }} [options]
 */
export function forbiddenAt(errors, path, options = {}) {
  return errorsAt(errors, path).find((e) => e.extensions?.code === 'FORBIDDEN' && (!options.exact || e.path?.length === path.length));
}

/**
 * GET a public ledger document (text or JSON).
 * @param {string} path
 * @param {'text' | 'json'} as
 * @param {boolean} [withSession] send the bearer token (entries are for compliance)
 */
export async function ledgerGet(path, as, withSession = false) {
  const res = withSession ? await authorized(path) : await send(path, {});
  if (!res.ok) {
    const json = await res.json().catch(() => null);
    throw new ApiError(json?.error?.code ?? `HTTP_${res.status}`, json?.error?.message ?? READABLE.INTERNAL);
  }
  return as === 'text' ? res.text() : res.json();
}
