/**
 * Who a principal is (role) and what a token may do (scope): the vocabularies, apart from
 * signed-identity.ts so that what only needs the words (the CLI's usage and checks) does
 * not load jose. signed-identity.ts re-exports them.
 */
export const ROLES = ['patient', 'clinician', 'researcher', 'compliance', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = ['read', 'write', 'ingest'] as const;
export type Scope = (typeof SCOPES)[number];
