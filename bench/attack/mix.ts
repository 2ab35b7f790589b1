/**
 * The attack mix of the hostile-traffic benchmark: the requests of issue 10's review,
 * each of which must be refused.
 *
 *   fan-out    patients(100) → labResults(100) → patient → labResults(100), a signed-in
 *              attacker's token: QUERY_TOO_COMPLEX before planning (or 429 past its budget)
 *   aliases    500 aliases of patients(first: 100): refused at the token limit (or 429)
 *   login      POST /auth/webauthn/login/options, unauthenticated: answered within the
 *              address's budget (RATE_LIMIT_AUTH_PER_MINUTE), 429 past it
 *   body       a 2 MB GraphQL body, unauthenticated: 413 without being parsed
 */
export type AttackKind = 'fan-out' | 'aliases' | 'login' | 'body';

export const ATTACK_KINDS: AttackKind[] = ['fan-out', 'aliases', 'login', 'body'];

export interface AttackRequest {
  path: string;
  body: string;
  headers: Record<string, string>;
}

export const FAN_OUT = `{ patients(first: 100) { nodes { labResults(first: 100) { nodes { patient {
  labResults(first: 100) { nodes { value unit } } } } } } } }`;

export const ALIASES = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: patients(first: 100) { nodes { id name { text } } }`).join(' ')} }`;

export function attackRequest(kind: AttackKind, attackerToken: string): AttackRequest {
  const json = { 'content-type': 'application/json' };
  switch (kind) {
    case 'fan-out':
      return { path: '/graphql', body: JSON.stringify({ query: FAN_OUT }), headers: { ...json, authorization: `Bearer ${attackerToken}` } };
    case 'aliases':
      return { path: '/graphql', body: JSON.stringify({ query: ALIASES }), headers: { ...json, authorization: `Bearer ${attackerToken}` } };
    case 'login':
      return { path: '/auth/webauthn/login/options', body: JSON.stringify({ username: 'someone.else' }), headers: json };
    case 'body':
      return { path: '/graphql', body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1_048_576) } }), headers: json };
  }
}

/** Whether an answer to this kind of attack is a refusal (the login flood is answered within its budget). */
export function isRefusal(status: number): boolean {
  return status >= 400 && status < 500;
}
