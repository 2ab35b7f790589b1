/**
 * The witnesses a hub asks to cosign (LEDGER_WITNESSES), parsed and checked at start-up:
 * a typo in a key or URL stops the ledger process rather than silently publishing
 * checkpoints that nobody witnesses.
 */
import { parseCosignerVerifierKey, type CosignatureVerifier } from '../core/cosignature';

export interface WitnessEndpoint {
  readonly verifier: CosignatureVerifier;
  /** The witness's submission prefix; it answers at `<baseUrl>/add-checkpoint`. */
  readonly baseUrl: string;
}

/**
 * LEDGER_WITNESSES: `<cosigner verifier key>@<base URL>`, comma-separated. The key ends
 * in base64 (no "@"), so the first "@" after its second "+" separates the two.
 */
export function parseWitnessList(value: string): WitnessEndpoint[] {
  const endpoints = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const secondPlus = entry.indexOf('+', entry.indexOf('+') + 1);
      const at = secondPlus < 0 ? -1 : entry.indexOf('@', secondPlus);
      if (at < 0) throw new Error(`witness ${JSON.stringify(entry)} is not <verifier key>@<base URL>`);
      const verifier = parseCosignerVerifierKey(entry.slice(0, at));
      let url: URL;
      try {
        url = new URL(entry.slice(at + 1));
      } catch {
        throw new Error(`witness ${verifier.name}: ${JSON.stringify(entry.slice(at + 1))} is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`witness ${verifier.name}: the URL must be http(s)`);
      return { verifier, baseUrl: url.toString().replace(/\/+$/, '') };
    });
  // A witness is one name (C2SP): the portal pins its key by name and a quorum counts it
  // once, so the same name twice — the same key at two URLs, or two keys — is a mistake.
  const seen = new Set<string>();
  for (const { verifier } of endpoints) {
    if (seen.has(verifier.name)) throw new Error(`witness ${verifier.name} is listed twice: list each witness once, under one key and one URL`);
    seen.add(verifier.name);
  }
  return endpoints;
}

