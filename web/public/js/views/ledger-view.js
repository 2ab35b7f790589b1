// @ts-check
/**
 * The compliance view's ledger tab: the trusted log key (pinned on first use, rotations
 * followed only through a checkpoint the pinned key signed), the witness keys, the latest
 * checkpoint and the history — every signature, consistency proof and cosignature checked
 * in this browser (ledger.js) — and the verification of one entry, step by step.
 */
import { ledgerGet, readable } from '../api.js';
import { busy, field, h, notice, replace } from '../dom.js';
import { when } from '../format.js';
import { VerifyError, equalBytes, followKeys, fromBase64, keyLabel, leafHash, openCheckpoint, openCheckpointWithKeys, parseVerifierKey, readLeaf, rootFromInclusionProof, toBase64, toHex, verifyConsistency } from '../ledger.js';
import { cosignatureList, loadWitnesses, renderWitnessKeys } from './witnesses.js';

const PIN = 'custodian.ledgerKey';

/**
 * @typedef {{ verifier: import('../ledger.js').Verifier, chain: import('../ledger.js').KeyChain, pinnedNow: boolean, served: string }} Trusted
 */

/** The stored checkpoint of exactly `size`, or null. */
async function checkpointOfSize(/** @type {number} */ size) {
  const page = await ledgerGet(`/ledger/checkpoints?since=${size}&limit=1`, 'json');
  const found = page.checkpoints[0];
  return found && found.size === size ? String(found.note) : null;
}

/**
 * The key checkpoints must be signed with: the one pinned in this browser, or — the
 * first time — the one the server publishes, pinned from then on (trust on first use;
 * compare its id with the one published elsewhere, or paste that key below). A rotation
 * is followed, and the new key pinned, only through a checkpoint the pinned key signed
 * announcing it (ledger.js followKeys); anything else in the server's key list is shown
 * as a problem, and the pin stays.
 * @returns {Promise<Trusted>}
 */
async function trustedKey() {
  const served = String(await ledgerGet('/ledger/key', 'text')).trim();
  const pinned = localStorage.getItem(PIN);
  const pinnedNow = !pinned;
  const start = pinned ?? (await parseVerifierKey(served)).text;
  /** @type {import('../ledger.js').ListedKey[]} */
  let listed = [];
  try {
    listed = (await ledgerGet('/ledger/keys', 'json')).keys;
  } catch {
    listed = []; // a server from before key rotation: only the pinned key counts
  }
  const chain = await followKeys(start, listed, checkpointOfSize);
  localStorage.setItem(PIN, chain.current.text);
  return { verifier: chain.current, chain, pinnedNow, served };
}

/** @typedef {import('../witness-pins.js').WitnessTrust} Witnesses */

/**
 * @param {HTMLElement} target
 * @param {string[]} args [entry index, event id]
 * @param {string} [flash] what a change of witness pins just did (shown in that section)
 */
export async function renderLedger(target, args, flash) {
  const keyArea = h('section', { class: 'card', 'aria-labelledby': 'key-title' });
  const witnessArea = h('section', { class: 'card', 'aria-labelledby': 'witness-keys-title' });
  const latestArea = h('section', { class: 'card', 'aria-labelledby': 'latest-title' });
  const historyArea = h('section', { class: 'card', 'aria-labelledby': 'history-title' });
  const verifyArea = h('section', { class: 'card verify', 'aria-labelledby': 'verify-title' });
  replace(target, h('h2', {}, 'Ledger'), verifyArea, latestArea, historyArea, keyArea, witnessArea);

  let trusted;
  try {
    trusted = await trustedKey();
  } catch (err) {
    replace(keyArea, h('h3', { id: 'key-title' }, 'Trusted key'), notice('error', err instanceof VerifyError ? `The ledger key is unusable: ${err.message}` : readable(err)));
    return;
  }
  renderKey(keyArea, trusted, () => renderLedger(target, args));
  const verifier = trusted.verifier;
  const witnesses = await loadWitnesses();
  renderWitnessKeys(witnessArea, witnesses, (message) => renderLedger(target, args, message), flash);

  // Verify an entry.
  const index = h('input', { type: 'number', name: 'index', min: 0, required: true, value: args[0] ?? '' });
  const go = h('button', { type: 'submit', class: 'primary' }, 'Verify');
  const report = h('div', { class: 'verify-report', 'aria-live': 'polite' });
  replace(verifyArea,
    h('h3', { id: 'verify-title' }, 'Verify an entry'),
    h('p', { class: 'hint' }, 'Your browser recomputes the entry’s hash, checks its inclusion proof against the latest checkpoint, and checks the checkpoint’s signature with the trusted key. Nothing is taken on the server’s word.'),
    h('form', { class: 'inline-form', onsubmit: (/** @type {SubmitEvent} */ e) => {
      e.preventDefault();
      busy(go, () => verifyEntry(report, verifier, Number(index.value), args[1] && args[0] === index.value ? decodeURIComponent(args[1]) : undefined));
    } }, field('Entry index', index), go),
    report,
  );

  // The latest checkpoint and the history, each signature checked here.
  let latest;
  try {
    const note = String(await ledgerGet('/ledger/checkpoint', 'text'));
    latest = await openCheckpoint(note, verifier).catch((/** @type {unknown} */ err) => {
      throw err instanceof VerifyError ? new VerifyError(`it is not signed by ${keyLabel(verifier)}, the key the pinned one leads to through announced rotations (${err.message})`) : err;
    });
    replace(latestArea,
      h('h3', { id: 'latest-title' }, 'Latest checkpoint'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Log'), h('dd', {}, latest.origin),
        h('dt', {}, 'Entries'), h('dd', { 'data-testid': 'latest-size' }, String(latest.size)),
        h('dt', {}, 'Root hash'), h('dd', {}, h('code', { class: 'hash' }, toBase64(latest.root))),
        h('dt', {}, 'Signature'), h('dd', {}, h('span', { class: 'verdict ok' }, `✓ valid (Ed25519, key ${toHex(verifier.keyId)}), checked in your browser`)),
        h('dt', {}, 'Witnesses'), h('dd', { 'data-testid': 'latest-cosignatures' }, await cosignatureList(note, witnesses, trusted.chain.keys)),
      ),
      witnesses.entries.length ? h('p', { class: 'hint' }, 'Each witness’s cosignature (C2SP tlog-cosignature) is checked in your browser with the key pinned here for it (see “Witness keys”); a key the hub lists that is not pinned here does not count.') : null,
      h('details', {}, h('summary', {}, 'The signed note'), h('pre', {}, note)),
    );
  } catch (err) {
    replace(latestArea, h('h3', { id: 'latest-title' }, 'Latest checkpoint'), notice('error', err instanceof VerifyError ? `✗ The latest checkpoint does not verify: ${err.message}` : readable(err)));
  }
  await renderHistory(historyArea, trusted.chain.keys, latest, witnesses);
  if (args[0] !== undefined && args[0] !== '') await busy(go, () => verifyEntry(report, verifier, Number(args[0]), args[1] ? decodeURIComponent(args[1]) : undefined));
}

/**
 * @param {HTMLElement} area
 * @param {Trusted} trusted
 * @param {() => void} changed
 */
function renderKey(area, trusted, changed) {
  const paste = h('textarea', { name: 'key', rows: 2, spellcheck: 'false' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const differs = trusted.served !== trusted.verifier.text;
  replace(area,
    h('h3', { id: 'key-title' }, 'Trusted key'),
    trusted.pinnedNow ? notice('info', `First use: this browser now pins the key the server publishes (id ${toHex(trusted.verifier.keyId)}). Compare that id with the one your organisation publishes elsewhere.`) : null,
    ...trusted.chain.followed.map((r) => notice('info', `The ledger rotated its key at size ${r.size}: the checkpoint announcing it is signed by the key pinned here (${keyLabel(r.from)}) and the new one (${keyLabel(r.to)}), checked in your browser. This browser now pins ${keyLabel(r.to)}.`)),
    ...trusted.chain.problems.map((p) => h('div', { class: 'notice error key-problem', role: 'alert' }, h('strong', {}, '✗ Unannounced key: '), p)),
    differs ? h('div', { class: 'notice error key-problem', role: 'alert' }, h('strong', {}, '✗ '), `The server publishes ${trusted.served.split('+').slice(0, 2).join('+')}, a key no rotation signed by the pinned key introduced. Checkpoints are still checked against the pinned key.`) : null,
    h('p', {}, h('code', { class: 'hash' }, trusted.verifier.text)),
    h('details', {}, h('summary', {}, 'Use another key'),
      h('form', { onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        try {
          const key = await parseVerifierKey(paste.value);
          localStorage.setItem(PIN, key.text);
          changed();
        } catch (err) {
          replace(status, notice('error', err instanceof VerifyError ? err.message : readable(err)));
        }
      } }, field('Verifier key (name+id+key)', paste), h('button', { type: 'submit' }, 'Pin this key'), status)),
  );
}

/**
 * @param {HTMLElement} area
 * @param {import('../ledger.js').TrustedKey[]} keys
 * @param {import('../ledger.js').Checkpoint | undefined} latest
 * @param {Witnesses} witnesses
 * @param {number} [before]
 */
async function renderHistory(area, keys, latest, witnesses, before) {
  const title = h('h3', { id: 'history-title' }, 'Checkpoint history');
  try {
    const page = await ledgerGet(`/ledger/checkpoints?limit=10${before !== undefined ? `&before=${before}` : ''}`, 'json');
    const rows = await Promise.all(page.checkpoints.map(async (/** @type {any} */ c) => {
      let signature;
      let consistent;
      try {
        const cp = await openCheckpointWithKeys(c.note, keys);
        signature = h('span', { class: 'verdict ok' }, '✓ signed');
        if (!latest || cp.size === 0) consistent = '—';
        else if (cp.size > latest.size) consistent = h('span', { class: 'verdict' }, 'newer than the latest shown');
        else {
          const proof = cp.size === latest.size ? { hashes: [] } : await ledgerGet(`/ledger/proof/consistency?from=${cp.size}&to=${latest.size}`, 'json');
          await verifyConsistency(cp.size, latest.size, cp.root, latest.root, proof.hashes.map(fromBase64));
          consistent = h('span', { class: 'verdict ok' }, '✓ consistent');
        }
      } catch (err) {
        const why = err instanceof VerifyError ? err.message : readable(err);
        signature ??= h('span', { class: 'verdict bad' }, `✗ ${why}`);
        consistent ??= h('span', { class: 'verdict bad' }, `✗ ${why}`);
      }
      return h('tr', { 'data-size': c.size },
        h('td', { class: 'num' }, c.size),
        h('td', {}, when(c.publishedAt)),
        h('td', {}, h('code', { class: 'hash' }, c.root)),
        h('td', {}, signature),
        h('td', {}, consistent),
        h('td', {}, await cosignatureList(c.note, witnesses, keys)));
    }));
    const older = h('button', { type: 'button' }, 'Older checkpoints');
    older.addEventListener('click', () => busy(older, () => renderHistory(area, keys, latest, witnesses, page.next.before)));
    replace(area, title,
      h('p', { class: 'hint' }, 'Each checkpoint’s signature, its consistency with the latest one (the log only grew; nothing was rewritten), and its witnesses’ cosignatures, checked in your browser.'),
      h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Checkpoint history' },
        h('table', {}, h('thead', {}, h('tr', {}, ['Entries', 'Published', 'Root hash', 'Signature', 'Consistent with latest', 'Witness cosignatures'].map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows))),
      before !== undefined ? h('button', { type: 'button', onclick: () => renderHistory(area, keys, latest, witnesses) }, 'Newest') : null,
      page.next ? older : null);
  } catch (err) {
    replace(area, title, notice('error', readable(err)));
  }
}

/**
 * Verifies entry `index` against the latest checkpoint, showing each step.
 * @param {HTMLElement} report
 * @param {import('../ledger.js').Verifier} verifier
 * @param {number} index
 * @param {string} [eventId] the audit event the entry must record
 */
export async function verifyEntry(report, verifier, index, eventId) {
  const steps = h('ol', { class: 'steps' });
  const verdict = h('div');
  replace(report, steps, verdict);
  /** @param {string} text */
  const step = (text) => steps.append(h('li', {}, h('span', { class: 'verdict ok' }, '✓ '), text));
  try {
    if (!Number.isSafeInteger(index) || index < 0) throw new VerifyError('the index must be a whole number, 0 or more');
    const note = String(await ledgerGet('/ledger/checkpoint', 'text'));
    const checkpoint = await openCheckpoint(note, verifier);
    step(`The latest checkpoint (${checkpoint.size} entries) is signed by the trusted key ${verifier.name}+${toHex(verifier.keyId)}.`);
    if (index >= checkpoint.size) {
      replace(verdict, notice('info', `Entry ${index} is not in a signed checkpoint yet (it has ${checkpoint.size} entries). Try again in a few seconds.`));
      return;
    }
    const entry = await ledgerGet(`/ledger/entries/${index}`, 'json', true);
    const data = fromBase64(entry.leafData);
    const hash = await leafHash(data);
    const { format, event, fields } = readLeaf(data);
    step(`Entry ${index}: a format-${format} leaf whose ${data.length} bytes hash to ${toBase64(hash)} (SHA-256 of 0x00 ‖ data, computed here).`);
    if (eventId !== undefined) {
      if (event.id !== eventId) throw new VerifyError(`entry ${index} records event ${event.id}, not the audit event ${eventId}`);
      step(`The entry records audit event ${eventId}.`);
    }
    const proof = await ledgerGet(`/ledger/proof/inclusion?index=${index}&treeSize=${checkpoint.size}`, 'json');
    const root = await rootFromInclusionProof(index, checkpoint.size, hash, proof.hashes.map(fromBase64));
    if (!equalBytes(root, checkpoint.root)) throw new VerifyError(`the inclusion proof leads to root ${toBase64(root)}, not the signed root ${toBase64(checkpoint.root)}`);
    step(`Its inclusion proof (${proof.hashes.length} hashes) leads to the signed root ${toBase64(checkpoint.root)}.`);
    replace(verdict,
      h('div', { class: 'notice ok verified', role: 'status' }, h('strong', {}, `Verified: entry ${index} is in the signed ledger of ${checkpoint.size} entries.`)),
      h('details', {}, h('summary', {}, 'The entry (exactly the bytes that were hashed)'), h('pre', {}, JSON.stringify(fields, null, 2))));
  } catch (err) {
    const why = err instanceof VerifyError ? err.message : readable(err);
    steps.append(h('li', {}, h('span', { class: 'verdict bad' }, '✗ '), why));
    replace(verdict, h('div', { class: 'notice error failed', role: 'alert' }, h('strong', {}, 'Verification FAILED: '), why));
  }
}
