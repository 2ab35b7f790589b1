/**
 * Configuration comes from the environment only, validated once with zod so that a
 * typo in a variable stops the process at start-up with a readable message instead of
 * surfacing as a confusing failure later.
 */
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from './paths';
import { androidOrigin, parseApkKeyHashes, parseOriginList } from './origins';

export const SUBGRAPH_NAMES = ['patients', 'labs', 'devices', 'research', 'audit'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Default ports: the gateway on 4000, subgraphs on the next ports in the order above. */
export const DEFAULT_PORTS: Record<SubgraphName | 'gateway', number> = {
  gateway: 4000,
  patients: 4001,
  labs: 4002,
  devices: 4003,
  research: 4004,
  audit: 4005,
};

const port = z.coerce.number().int().min(0).max(65535);
const count = z.coerce.number().int().positive();

/** TRUST_PROXY as Express's `trust proxy` setting. */
function trustProxy(value: string): boolean | number | string[] {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'off' || v === 'false') return false;
  if (v === 'on' || v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Why an entry of CORS_ORIGINS is not an origin, or null. Browsers send `Origin` as
 * scheme://host[:port], lower-case, no path: the entry must be written exactly so, since
 * it is compared as a string, and a path or a trailing slash would match nothing.
 */
export function originProblem(entry: string): string | null {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `${JSON.stringify(entry)} is not an origin (scheme://host[:port])`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${JSON.stringify(entry)} is not an http(s) origin`;
  if (url.origin !== entry) return `${JSON.stringify(entry)} is not an origin as a browser sends it: write ${JSON.stringify(url.origin)} (no path, no trailing slash, lower case)`;
  return null;
}

/** CORS_ORIGINS: a comma-separated list of exact origins, or `*` (any; refused in production). */
const corsOrigins = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
  .superRefine((origins, issues) => {
    for (const origin of origins) {
      const problem = origin === '*' ? null : originProblem(origin);
      if (problem) issues.addIssue({ code: 'custom', message: problem });
    }
  });

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.optional(),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default(path.join(projectRoot(), '.data')),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL (leave it unset for embedded SQLite)')
    .optional(),
  /**
   * Connections per PostgreSQL pool. Every process opens several databases (its own, the
   * consent store, the ledger...), so a hub of eight processes holds dozens of pools:
   * small pools keep a whole hub far below PostgreSQL's default max_connections (100).
   */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(4),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'REDIS_URL must be a redis:// URL').default('redis://127.0.0.1:6379'),
  /** WebAuthn relying party: the site's domain, and the exact origin pages are served from. */
  RP_ID: z.string().default('localhost'),
  /**
   * The web origins passkeys are used from, comma-separated (common/origins.ts): the first
   * is the hub's own (security headers, production checks); the others are WebAuthn
   * related origins, listed at /.well-known/webauthn. Read as `ORIGIN` (the first) and
   * `WEB_ORIGINS` (all) after parsing.
   */
  ORIGIN: z.string().default('http://localhost:4000').transform((value, ctx) => {
    const { origins, problems } = parseOriginList(value);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return problems.length ? z.NEVER : origins;
  }),
  /** Android apps whose passkey ceremonies are accepted: base64url SHA-256 signing-certificate digests, comma-separated. */
  ANDROID_APK_KEY_HASHES: z.string().default('').transform((value, ctx) => {
    const { hashes, problems } = parseApkKeyHashes(value);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return problems.length ? z.NEVER : hashes;
  }),
  /** The Android application id those certificates sign, for /.well-known/assetlinks.json. */
  ANDROID_PACKAGE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/, 'ANDROID_PACKAGE must be an application id such as org.example.custodian')
    .optional(),
  /** iOS apps, `<Team ID>.<bundle id>` comma-separated, for /.well-known/apple-app-site-association. */
  APPLE_APP_IDS: z.string().default('').transform((value, ctx) => {
    const ids = [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
    for (const id of ids) {
      if (!/^[A-Z0-9]{10}\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(id)) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(id)} is not <Team ID>.<bundle id> (ten upper-case letters or digits, a dot, then the bundle id, e.g. ABCDE12345.org.example.custodian)` });
      }
    }
    return ids;
  }),
  /**
   * Privacy of research answers: an aggregate over fewer patients is withheld. At least
   * 5 in production (checked below); smaller only for tests of tiny worlds.
   */
  COHORT_MIN_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  /**
   * The secret research pseudonyms are keyed with (base64, at least 32 bytes). Generated
   * into DATA_DIR/keys/ in development (common/keys.ts); required in production by the
   * research subgraph (common/production.ts). PSEUDONYM_KEY_FILE may name a file instead.
   */
  PSEUDONYM_KEY: z.string().optional(),
  /** During a rotation: the key being retired, so members can map old pseudonyms to new (Enrolment.previousPseudonym). */
  PSEUDONYM_KEY_PREVIOUS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PATIENTS_URL: z.url().optional(),
  LABS_URL: z.url().optional(),
  DEVICES_URL: z.url().optional(),
  RESEARCH_URL: z.url().optional(),
  AUDIT_URL: z.url().optional(),

  /**
   * What serves /graphql over supergraph.graphql (gateway/runtime/executor.ts): `hive`,
   * Hive Gateway (MIT), or `apollo`, Apollo Gateway (Elastic License 2.0). Same routes,
   * identity signing, scopes, purpose, limits and error codes either way. The default is
   * the fastest combination that passes every test, Hive with the Rust planner (README,
   * "The gateway's executor").
   */
  GATEWAY_EXECUTOR: z.enum(['apollo', 'hive']).default('hive'),
  /**
   * Hive's query planner: `rust` (@graphql-hive/router-runtime; the default with Hive) or
   * `js` (Hive's own). Apollo plans with its own (`js`, the only value it takes).
   */
  GATEWAY_PLANNER: z.enum(['js', 'rust']).optional(),

  // Hostile traffic (issue 10): operation limits, deadlines, rate limits, what is exposed.
  // Defaults let every query the portal, the README and the tests send pass (test/gateway/
  // limits-defaults.test.ts); gateway/runtime/limits/ applies them.
  /** Deepest field nesting of an operation (fragments flattened). */
  MAX_QUERY_DEPTH: count.default(10),
  /** Aliased fields in an operation. */
  MAX_QUERY_ALIASES: count.default(15),
  /** Top-level fields of an operation (each is planned and fetched on its own). */
  MAX_QUERY_ROOT_FIELDS: count.default(15),
  /** Lexical tokens of a document: parsing stops past this. */
  MAX_QUERY_TOKENS: count.default(1000),
  /** Directives used in an operation. */
  MAX_QUERY_DIRECTIVES: count.default(20),
  /** Fields of an operation once its fragments are expanded (fragments spreading fragments multiply). */
  MAX_QUERY_FIELDS: count.default(2000),
  /** Estimated rows an operation may read: lists multiply by `first` (or the page maximum), entity hops count. */
  MAX_QUERY_COST: count.default(50_000),
  /** Largest GraphQL request body the gateway reads. */
  MAX_REQUEST_BYTES: count.default(1_048_576),
  /** Largest answer the gateway assembles from its subgraphs for one request. */
  MAX_RESPONSE_BYTES: count.default(8 * 1_048_576),
  /** Each request's deadline at the gateway: its subgraph fetches are cancelled past it. */
  REQUEST_TIMEOUT_MS: count.default(10_000),
  /** Each subgraph fetch's own timeout. */
  SUBGRAPH_TIMEOUT_MS: count.default(8_000),
  /** GraphQL requests per minute per principal (user); 0 turns the limit off. */
  RATE_LIMIT_GRAPHQL_PER_MINUTE: z.coerce.number().int().min(0).default(1200),
  /** Requests per minute per client address to /auth/* (and failed GraphQL sign-ins); 0 = off. */
  RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  /** Requests per minute per client address to /ledger/*; 0 = off. */
  RATE_LIMIT_LEDGER_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  /**
   * Whether X-Forwarded-For is believed for the client address: `off` (default), `on`
   * (any proxy), a number of proxy hops, or addresses/subnets of trusted proxies
   * (`loopback`, `10.0.0.0/8`, …, comma-separated), as Express's `trust proxy`.
   */
  TRUST_PROXY: z.string().default('off').transform(trustProxy),
  /** A separate listener for /metrics and the detailed /healthz; unset: none. */
  METRICS_PORT: port.optional(),
  /** Where that listener binds: loopback unless an operator says otherwise. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** Opens /metrics and the detailed /healthz on the main listener to `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /**
   * Browser origins allowed to call /graphql and /fhir cross-origin (gateway/runtime/cors.ts),
   * comma-separated, each exactly scheme://host[:port]. Empty (the default): none.
   */
  CORS_ORIGINS: corsOrigins,
  /** Schema introspection: off when NODE_ENV=production unless `on`; on elsewhere unless `off`. */
  INTROSPECTION: z.enum(['on', 'off']).optional(),
});

/** Rules that hold between settings, or only in production. */
const CheckedEnvSchema = EnvSchema.superRefine((env, issues) => {
  if (env.GATEWAY_PLANNER === 'rust' && env.GATEWAY_EXECUTOR !== 'hive') {
    issues.addIssue({ code: 'custom', path: ['GATEWAY_PLANNER'], message: `rust is Hive Gateway's planner: set GATEWAY_EXECUTOR=hive too (it is ${env.GATEWAY_EXECUTOR})` });
  }
  if (env.ANDROID_PACKAGE && env.ANDROID_APK_KEY_HASHES.length === 0) {
    issues.addIssue({ code: 'custom', path: ['ANDROID_PACKAGE'], message: 'needs ANDROID_APK_KEY_HASHES too: assetlinks.json binds the app by its signing certificates' });
  }
  if (env.NODE_ENV !== 'production') return;
  // What a process needs in production besides valid values (a database, Redis, keys,
  // secrets) is checked per process by common/production.ts, before anything starts.
  if (env.CORS_ORIGINS.includes('*')) {
    issues.addIssue({ code: 'custom', path: ['CORS_ORIGINS'], message: '* (any origin) is refused in production: list the origins' });
  }
  if (env.COHORT_MIN_SIZE < 5) issues.addIssue({ code: 'custom', path: ['COHORT_MIN_SIZE'], message: 'must be at least 5 in production' });
}).transform((env) => ({
  ...env,
  GATEWAY_PLANNER: env.GATEWAY_PLANNER ?? (env.GATEWAY_EXECUTOR === 'hive' ? 'rust' : 'js'),
  // ORIGIN stays one origin, the hub's own, for everything that means "where pages are
  // served from" (security headers, production checks); passkeys accept every one below.
  ORIGIN: env.ORIGIN[0]!,
  WEB_ORIGINS: env.ORIGIN,
  /** What a passkey's clientDataJSON origin may be: the web origins, then the Android apps'. */
  WEBAUTHN_ORIGINS: [...env.ORIGIN, ...env.ANDROID_APK_KEY_HASHES.map(androidOrigin)],
}));

export type Env = z.output<typeof CheckedEnvSchema>;

/** Whether GraphQL introspection is served (INTROSPECTION, else off in production only). */
export function introspectionOn(env: Pick<Env, 'NODE_ENV' | 'INTROSPECTION'>): boolean {
  return env.INTROSPECTION ? env.INTROSPECTION === 'on' : env.NODE_ENV !== 'production';
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = CheckedEnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Where the gateway finds a subgraph: `<NAME>_URL` if set, else localhost on its default port. */
export function subgraphUrl(name: SubgraphName, env: Env = readEnv()): string {
  const override = env[`${name.toUpperCase()}_URL` as 'PATIENTS_URL'];
  return override ?? `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`;
}
