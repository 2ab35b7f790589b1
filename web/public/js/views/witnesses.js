// @ts-check
/**
 * The ledger page's witnesses: each checkpoint's cosignatures, checked in this browser
 * with the witness keys pinned here (witness-pins.js), and the "Witness keys" section
 * where a changed or new key is shown and accepted explicitly, a key given out of band
 * is pasted, and a witness the hub dropped is forgotten. A key the hub lists but this
 * browser has not pinned never makes a cosignature count as valid.
 */
import { ApiError, ledgerGet, readable } from '../api.js';
import { field, h, notice, replace } from '../dom.js';
import { VerifyError, checkCosignatures, equalBytes, parseCosignerKey, toHex } from '../ledger.js';
import { forgetWitness, pinWitnessKey, reconcileWitnesses } from '../witness-pins.js';

/**
 * @typedef {import('../ledger.js').Cosigner} Cosigner
 * @typedef {import('../witness-pins.js').WitnessTrust} WitnessTrust
 * @typedef {import('../witness-pins.js').WitnessEntry} WitnessEntry
 */

/** @param {Cosigner} w */
const label = (w) => `${w.name}+${toHex(w.keyId)}`;

/** What a pasted or accepted key must be compared with: the witness itself, not the hub. */
export const KEY_CHANGED = 'key changed since you pinned it — compare with what the witness publishes';
export const NOT_PINNED = 'not pinned in this browser — compare its key with what the witness publishes';
export const UNLISTED = 'no longer listed by the hub';

/**
 * The witnesses the hub lists (GET /ledger/witnesses), parsed and their key ids checked
 * here, reconciled with the keys pinned in this browser. A hub from before witnesses
 * (404) lists none.
 * @returns {Promise<WitnessTrust>}
 */
export async function loadWitnesses() {
  /** @type {string[]} */
  const problems = [];
  /** @type {Cosigner[] | null} */
  let cosigners = [];
  try {
    const listed = /** @type {{ name: string, verifierKey: string, host: string }[]} */ ((await ledgerGet('/ledger/witnesses', 'json')).witnesses);
    for (const w of listed) {
      try {
        cosigners.push(await parseCosignerKey(w.verifierKey, w.host));
      } catch (err) {
        problems.push(`Witness ${w.name}'s key is unusable: ${err instanceof VerifyError ? err.message : String(err)}`);
      }
    }
  } catch (err) {
    if (!(err instanceof ApiError && (err.code === 'NOT_FOUND' || err.code === 'HTTP_404'))) {
      problems.push(`The list of witnesses could not be read: ${readable(err)}`);
      cosigners = null;
    }
  }
  const trust = await reconcileWitnesses(localStorage, cosigners);
  return { ...trust, problems: [...problems, ...trust.problems] };
}

/** @param {number} seconds POSIX time */
const utc = (seconds) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/**
 * Each witness's cosignature on a checkpoint, checked in this browser with the pinned
 * keys: valid (with its time), invalid (forged, or for another checkpoint or time), or
 * not there; a witness whose listed key is not the pinned one, or is not pinned at all,
 * is "not counted", whatever its line says.
 * @param {string} note
 * @param {WitnessTrust} trust
 * @param {import('../ledger.js').TrustedKey[]} logKeys the log's own signature lines, not cosignatures
 */
export async function cosignatureList(note, trust, logKeys) {
  const isLogKey = (/** @type {string} */ name, /** @type {Uint8Array} */ id) => logKeys.some((k) => k.verifier.name === name && equalBytes(k.verifier.keyId, id));
  try {
    const report = await checkCosignatures(note, trust.trusted, isLogKey);
    /** Lines by listed keys that are not pinned: named by their witness's entry, not as strangers. */
    const accounted = new Set(trust.entries.flatMap((e) => (e.listed && e.standing !== 'pinned' ? [label(e.listed)] : [])));
    return h('ul', { class: 'cosignatures' },
      trust.entries.map((e) => cosignatureItem(e, report.witnesses.find((c) => c.witness === e.pinned), e.listed !== null && report.unknown.includes(label(e.listed)))),
      report.unknown.filter((l) => !accounted.has(l)).map((l) => h('li', { class: 'cosignature unknown' }, h('span', { class: 'verdict' }, '? not checked'), ` ${l}: not a witness the hub lists`)),
      !trust.entries.length && !report.unknown.length ? h('li', {}, 'No witnesses configured.') : null,
    );
  } catch (err) {
    return h('span', { class: 'verdict bad' }, `✗ ${err instanceof VerifyError ? err.message : readable(err)}`);
  }
}

/**
 * @param {WitnessEntry} e
 * @param {import('../ledger.js').CosignatureCheck | undefined} check under the pinned key
 * @param {boolean} byListedKey whether the note has a line by the key the hub lists (when it is not the pinned one)
 */
function cosignatureItem(e, check, byListedKey) {
  const host = e.listed?.host || e.pinned?.host;
  const who = `${e.name}${host ? ` (${host})` : ''}`;
  const attrs = (/** @type {string} */ kind) => ({ class: `cosignature ${kind} ${e.standing}`, 'data-witness': e.name });
  const tail = e.standing === 'unlisted' ? ` — ${UNLISTED}` : '';
  // A changed witness is judged by its pinned key when that key signed; a line by a key
  // not pinned here is never counted, whatever it says.
  if (check?.status !== 'valid' && check?.status !== 'invalid' && (e.standing === 'changed' || e.standing === 'unpinned')) {
    const why = e.standing === 'changed' ? KEY_CHANGED : NOT_PINNED;
    if (byListedKey) return h('li', attrs('not-counted'), h('span', { class: 'verdict bad' }, '⚠ not counted'), ` ${who}: ${why}`);
    return h('li', attrs('missing'), h('span', { class: 'verdict' }, '—'), ` ${who} did not cosign (${why})`);
  }
  if (check?.status === 'valid') {
    return h('li', attrs('valid'), h('span', { class: 'verdict ok' }, '✓ valid'), ` ${who}, cosigned at `, h('time', { datetime: utc(/** @type {number} */ (check.timestamp)) }, utc(/** @type {number} */ (check.timestamp))), tail);
  }
  if (check?.status === 'invalid') {
    return h('li', attrs('invalid'), h('span', { class: 'verdict bad' }, '✗ invalid'), ` ${who}: ${check.reason}${check.timestamp !== undefined ? ` (claims ${utc(check.timestamp)})` : ''}`, tail);
  }
  return h('li', attrs('missing'), h('span', { class: 'verdict' }, '—'), ` ${who} did not cosign`, tail);
}

/**
 * The "Witness keys" section: the first-use pins, each witness's standing with a button
 * to accept a changed or new key (or forget a dropped witness), and a form to pin a key
 * given out of band. `changed(message)` re-renders the ledger page after a pin changed.
 * @param {HTMLElement} area
 * @param {WitnessTrust} trust
 * @param {(message: string) => void} changed
 * @param {string} [flash] what the last action did, announced and focused
 */
export function renderWitnessKeys(area, trust, changed, flash) {
  const title = h('h3', { id: 'witness-keys-title', tabindex: -1 }, 'Witness keys');
  const paste = h('textarea', { name: 'witness-key', rows: 2, spellcheck: 'false', autocapitalize: 'none' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const pin = (/** @type {Cosigner} */ key, /** @type {string} */ message) => {
    pinWitnessKey(localStorage, key);
    changed(message);
  };
  replace(area,
    title,
    flash ? notice('ok', flash) : null,
    trust.pinnedNow.length
      ? h('div', { class: 'notice info witness-first-use', role: 'status' }, `First use: this browser now pins the keys of the witnesses the hub lists (${trust.pinnedNow.map(label).join(', ')}). Only cosignatures by these keys count here; compare them with what each witness publishes.`)
      : null,
    ...trust.problems.map((p) => notice('error', p)),
    trust.entries.length
      ? h('ul', { class: 'plain witness-keys' }, trust.entries.map((e) => witnessKeyItem(e, pin, () => {
          forgetWitness(localStorage, e.name);
          changed(`Forgot the key of ${e.name}.`);
        })))
      : h('p', {}, 'No witness keys are pinned in this browser, and the hub lists no witnesses.'),
    h('details', { class: 'witness-paste' }, h('summary', {}, 'Pin a witness key given to you out of band'),
      h('form', { onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        if (!paste.value.trim()) {
          replace(status, notice('error', 'Not pinned: paste a witness verifier key line, <name>+<id>+<key>.'));
          return;
        }
        try {
          const key = await parseCosignerKey(paste.value);
          const before = trust.entries.find((x) => x.name === key.name)?.pinned;
          pin(key, `Pinned ${label(key)}${before && !equalBytes(before.keyId, key.keyId) ? `, in place of ${label(before)}` : ''}.`);
        } catch (err) {
          replace(status, notice('error', `Not pinned: ${err instanceof VerifyError ? err.message : readable(err)}.`));
        }
      } },
      field('Witness verifier key (name+id+key)', paste, 'The cosigner verifier key line the witness publishes, e.g. witness.example.org/w1+1f2e3d4c+BK…'),
      h('button', { type: 'submit' }, 'Pin this witness key'),
      status)),
  );
  if (flash) title.focus();
}

/**
 * @param {WitnessEntry} e
 * @param {(key: Cosigner, message: string) => void} pin
 * @param {() => void} forget
 */
function witnessKeyItem(e, pin, forget) {
  const host = e.listed?.host ? ` (${e.listed.host})` : '';
  const key = (/** @type {Cosigner} */ k) => h('code', { class: 'hash' }, k.text);
  if (e.standing === 'pinned') {
    const k = /** @type {Cosigner} */ (e.pinned);
    return h('li', { class: 'witness-key pinned', 'data-witness': e.name }, h('span', { class: 'verdict ok' }, '✓ pinned'), ` ${e.name}${host}: `, key(k));
  }
  if (e.standing === 'unlisted') {
    const k = /** @type {Cosigner} */ (e.pinned);
    return h('li', { class: 'witness-key unlisted', 'data-witness': e.name },
      h('span', { class: 'verdict' }, `— ${UNLISTED}`), ` ${e.name}: `, key(k), '. Its cosignatures are still checked with this pinned key. ',
      h('button', { type: 'button', onclick: forget }, `Forget ${e.name}`));
  }
  const listed = /** @type {Cosigner} */ (e.listed);
  const accept = h('button', { type: 'button', class: 'primary', onclick: () => pin(listed, `Pinned ${label(listed)}.`) }, e.standing === 'changed' ? `Accept the new key ${label(listed)}` : `Pin ${label(listed)}`);
  return h('li', { class: `witness-key ${e.standing}`, 'data-witness': e.name },
    h('div', { class: 'notice error', role: 'alert' },
      h('strong', {}, `⚠ ${e.name}${host}: ${e.standing === 'changed' ? KEY_CHANGED : NOT_PINNED}.`),
      e.standing === 'changed' ? h('p', {}, 'Pinned here: ', key(/** @type {Cosigner} */ (e.pinned)), h('br'), 'The hub now lists: ', key(listed)) : h('p', {}, 'The hub lists: ', key(listed)),
      h('p', {}, 'Its cosignatures are not counted until you accept the key. Accept it only if the witness itself publishes this key.'),
      accept));
}
