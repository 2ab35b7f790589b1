/**
 * How long an access token lives, apart from sessions.ts so that `custodian keys` can read
 * it without loading jose, TypeORM and the outbox (cli/usage.ts says why that matters).
 */
export const ACCESS_TTL_SECONDS = 15 * 60;
