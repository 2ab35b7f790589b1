// @ts-check
/**
 * Which witnesses this browser trusts, and with which keys: pinned on first use, as the
 * log's own key is (views/ledger-view.js trustedKey). GET /ledger/witnesses is the hub's
 * word, and a lying hub could list a key it holds under a witness's name and show its
 * own "cosignatures" as valid; so only a key pinned here counts:
 *
 *   - the first time this browser reads the hub's list, it pins each witness's key by
 *     name (an empty list is pinned too: a witness added later must be accepted);
 *   - later, a listed key that differs from the pin ("changed") or a witness with no pin
 *     ("unpinned") is not counted until the person accepts it; the pinned key stays the
 *     one cosignatures are checked with;
 *   - a pinned witness the hub no longer lists ("unlisted") is still checked with its pin;
 *   - a key given out of band can be pinned by pasting its verifier key line.
 *
 * Pins live in localStorage under WITNESS_PINS as JSON {name: verifier key}. No DOM here:
 * views/witnesses.js shows it.
 */
import { VerifyError, parseCosignerKey, sameCosignerKey } from './ledger.js';

export const WITNESS_PINS = 'custodian.witnessKeys';

/**
 * @typedef {import('./ledger.js').Cosigner} Cosigner
 * @typedef {'pinned' | 'changed' | 'unpinned' | 'unlisted'} Standing
 * @typedef {{ name: string, standing: Standing, pinned: Cosigner | null, listed: Cosigner | null }} WitnessEntry
 * @typedef {{ entries: WitnessEntry[], trusted: Cosigner[], pinnedNow: Cosigner[], problems: string[] }} WitnessTrust
 */

/**
 * The pins stored in this browser: null when there are none yet (first use); an
 * unreadable store is a problem and pins nothing — it is never silently replaced by
 * the hub's list.
 * @param {Storage} storage
 * @returns {{ pins: Record<string, string> | null, problem?: string }}
 */
export function readPins(storage) {
  const raw = storage.getItem(WITNESS_PINS);
  if (raw === null) return { pins: null };
  try {
    const parsed = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) throw new Error('not an object of keys');
    return { pins: /** @type {Record<string, string>} */ (parsed) };
  } catch {
    return { pins: {}, problem: 'The witness keys pinned in this browser could not be read: no witness is trusted until its key is pinned again.' };
  }
}

/**
 * Pins `key` for its witness's name, replacing any earlier pin for that name.
 * @param {Storage} storage
 * @param {Cosigner} key
 */
export function pinWitnessKey(storage, key) {
  const { pins } = readPins(storage);
  storage.setItem(WITNESS_PINS, JSON.stringify({ ...(pins ?? {}), [key.name]: key.text }));
}

/**
 * Forgets the pin of witness `name` (one the hub no longer lists).
 * @param {Storage} storage
 * @param {string} name
 */
export function forgetWitness(storage, name) {
  const { pins } = readPins(storage);
  const rest = { ...(pins ?? {}) };
  delete rest[name];
  storage.setItem(WITNESS_PINS, JSON.stringify(rest));
}

/**
 * Reconciles the hub's list with the pins: on first use (no pins yet) pins the list;
 * then says of each witness whether its listed key is the pinned one. `trusted` is the
 * pinned keys, the only ones cosignatures count under (with the host the hub lists for
 * that name, to name them).
 * @param {Storage} storage
 * @param {Cosigner[] | null} listed the hub's list, parsed; null when it could not be read (nothing is pinned then)
 * @returns {Promise<WitnessTrust>}
 */
export async function reconcileWitnesses(storage, listed) {
  const stored = readPins(storage);
  /** @type {string[]} */
  const problems = stored.problem ? [stored.problem] : [];
  /** @type {Cosigner[]} */
  let pinnedNow = [];
  let pins = stored.pins;
  if (pins === null) {
    if (listed === null) return { entries: [], trusted: [], pinnedNow, problems };
    pins = {};
    for (const w of listed) {
      if (pins[w.name] !== undefined) continue; // the same name listed twice: the first is pinned, the other is a changed key
      pins[w.name] = w.text;
      pinnedNow.push(w);
    }
    storage.setItem(WITNESS_PINS, JSON.stringify(pins));
  }
  const byName = new Map((listed ?? []).map((w) => [w.name, w]));
  /** @type {Map<string, Cosigner>} */
  const pinned = new Map();
  for (const [name, text] of Object.entries(pins)) {
    try {
      const key = await parseCosignerKey(text, byName.get(name)?.host ?? '');
      if (key.name !== name) throw new VerifyError(`it is the key of ${key.name}`);
      pinned.set(name, key);
    } catch (err) {
      problems.push(`The key pinned here for witness ${name} is unusable (${err instanceof Error ? err.message : String(err)}): pin it again.`);
    }
  }
  /** @type {WitnessEntry[]} */
  const entries = (listed ?? []).map((w) => {
    const pin = pinned.get(w.name) ?? null;
    const standing = pin === null ? 'unpinned' : sameCosignerKey(pin, w) ? 'pinned' : 'changed';
    return { name: w.name, standing, pinned: pin, listed: w };
  });
  for (const [name, pin] of pinned) {
    // Without the list, what the hub lists now is unknown: each pin is still checked.
    if (!byName.has(name)) entries.push({ name, standing: listed === null ? 'pinned' : 'unlisted', pinned: pin, listed: null });
  }
  return { entries, trusted: [...pinned.values()], pinnedNow, problems };
}
