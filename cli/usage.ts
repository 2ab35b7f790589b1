/**
 * What `custodian --help` prints, kept apart from the commands themselves: help and a
 * usage error must not load what a command needs (TypeORM, the seed's faker, the whole
 * gateway), which is what made every invocation take seconds (README, "The CLI").
 * Imports nothing heavier than the role and scope vocabularies.
 */
import { ROLES, SCOPES } from '../common/roles';

export const DEFAULT_USERS_LIMIT = 50;

export const INVITE_USAGE = `invite --role <${ROLES.join('|')}> [--patient ID] [--institution ID] [--practitioner ID] [--hours H]`;
export const TOKEN_USAGE = `token <username> [--name N] [--scopes ${SCOPES.join(',')}] [--days D]`;
export const USERS_USAGE = `users [--role R] [--limit N] [--after CURSOR]`;

export const ACCOUNT_USAGE = `  ${INVITE_USAGE}
                                 print a one-time enrolment code for a passkey registration
  ${TOKEN_USAGE}
                                 mint an API token for a user (shown once)
  ${USERS_USAGE}
                                 list accounts, ${DEFAULT_USERS_LIMIT} a page (--limit up to 1000); says how to get the next`;

export const SEED_USAGE = 'custodian seed [--patients N] [--seed S]   (default 200 patients, seed 42)';

export const KEYS_LEDGER_USAGE = `  keys rotate ledger [--out FILE]
                                 add a new checkpoint signing key; the next checkpoint,
                                 signed by the old and the new key, announces it`;

export const KEYS_USAGE = `  keys rotate <identity|session> [--file <key-set file> [--jwks <public file>] | --data-dir <dir>] [--activate-in <seconds>]
                                 add a new signing key; the old one keeps verifying what it signed
  keys list [identity|session] [--file <key-set file> | --data-dir <dir>]
                                 each key's id, status (pending, active, retiring), dates
${KEYS_LEDGER_USAGE}`;

export const VERIFY_USAGE = `  verify --url <gateway> [--token T] [--key VKEY] [--from-checkpoint FILE]
         [--witness VKEY]... [--quorum K] [--checkpoint FILE]...
                                 independently verify the published ledger from its tiles;
                                 with witnesses, K of them (default all) must have cosigned;
                                 each --checkpoint (a signed note saved elsewhere, e.g. as shown
                                 to another auditor) must be of the same history, else
                                 "tampered: split view", naming who signed and cosigned each
                                 (exit 0 verified, 1 tampered, 2 could not verify)`;

/** A mistake in how a command was called: printed with the command's usage, exit status 2. */
export const WITNESS_USAGE = `  witness --generate-key <name> --out <file>
                                 write a witness (cosigner) key, print its verifier key <name>+<id>+<base64(0x04‖key)>
  witness --key <file> --log <log verifier key> [--log …] [--port 7380] [--host 127.0.0.1] [--data .data/witness]
                                 run a C2SP tlog-witness: POST /add-checkpoint cosigns consistent checkpoints`;

export class UsageError extends Error {
  constructor(message: string, readonly usage?: string) {
    super(message);
  }
}
