// @ts-check
/**
 * The compliance view: the audit trail with filters, the accounting of disclosures
 * (with its CSV export), the break-the-glass review queue, and the ledger — whose
 * checkpoints and inclusion proofs this page verifies itself, with WebCrypto.
 */
import { graphql, graphqlStrict, ledgerGet, readable } from '../api.js';
import { busy, field, h, notice, replace, select } from '../dom.js';
import { categoryLabel, purposeLabel, when } from '../format.js';
import { CATEGORIES } from '../vocabulary.js';
import { VerifyError, equalBytes, followKeys, fromBase64, keyLabel, leafHash, openCheckpoint, openCheckpointWithKeys, parseVerifierKey, readLeaf, rootFromInclusionProof, toBase64, toHex, verifyConsistency } from '../ledger.js';

const OPS = { purpose: 'OPERATIONS' };

export const COMPLIANCE_TABS = /** @type {Array<[string, string]>} */ ([
  ['audit', 'Audit trail'],
  ['disclosures', 'Disclosures'],
  ['break-glass', 'Break-glass reviews'],
  ['ledger', 'Ledger'],
]);

/**
 * @param {HTMLElement} main
 * @param {string} tab
 * @param {string[]} args
 */
export async function renderCompliance(main, tab, args) {
  const body = h('div');
  replace(
    main,
    h('h1', {}, 'Compliance'),
    h('nav', { class: 'tabs', 'aria-label': 'Compliance' },
      COMPLIANCE_TABS.map(([id, label]) => h('a', { href: `#/compliance/${id}`, 'aria-current': id === tab ? 'page' : false }, label))),
    body,
  );
  if (tab === 'disclosures') return renderDisclosures(body);
  if (tab === 'break-glass') return renderBreakGlass(body);
  if (tab === 'ledger') return renderLedger(body, args);
  return renderAudit(body);
}

/** A datetime-local value as an ISO instant (the browser's time zone), or null. */
const instant = (/** @type {string} */ v) => (v ? new Date(v).toISOString() : null);

const AUDIT_QUERY = `query Audit($patientId: ID, $actor: ID, $category: DataCategory, $decision: AccessDecision, $kind: String, $from: DateTime, $to: DateTime, $after: String) {
  auditTrail(patientId: $patientId, actor: $actor, category: $category, decision: $decision, kind: $kind, from: $from, to: $to, first: 25, after: $after) {
    nodes { id kind at patientId category action purpose decision decidedBy service requestId actor { userId role institutionId } ledger { index } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** @param {HTMLElement} target */
async function renderAudit(target) {
  const patient = h('input', { name: 'patient', autocapitalize: 'none', spellcheck: 'false' });
  const actor = h('input', { name: 'actor', autocapitalize: 'none', spellcheck: 'false' });
  const category = select({ name: 'category' }, [['', 'Any'], ...CATEGORIES.map((c) => /** @type {[string, string]} */ ([c, categoryLabel(c)]))]);
  const decision = select({ name: 'decision' }, [['', 'Any'], ['PERMIT', 'Allowed'], ['DENY', 'Refused']]);
  const kind = h('input', { name: 'kind', list: 'event-kinds', autocapitalize: 'none' });
  const from = h('input', { type: 'datetime-local', name: 'from' });
  const to = h('input', { type: 'datetime-local', name: 'to' });
  const search = h('button', { type: 'submit', class: 'primary' }, 'Search');
  const results = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    {
      class: 'card filters',
      'aria-label': 'Audit trail filters',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        busy(search, () => run());
      },
    },
    h('div', { class: 'grid' },
      field('Patient id', patient),
      field('Actor (user id)', actor),
      field('Category', category),
      field('Decision', decision),
      field('Event kind', kind),
      field('From', from),
      field('Until (exclusive)', to),
    ),
    h('datalist', { id: 'event-kinds' }, ['access.decision', 'consent.granted', 'consent.revoked', 'breakglass.started', 'breakglass.reviewed', 'user.enrolled', 'passkey.registered', 'passkey.removed', 'session.started', 'session.ended', 'session.revoked', 'apitoken.created', 'apitoken.revoked', 'device.registered', 'readings.ingested', 'outbox.rejected'].map((k) => h('option', { value: k }))),
    search,
  );
  replace(target, h('h2', {}, 'Audit trail'), form, results);

  const run = async () => {
    const variables = {
      patientId: patient.value.trim() || null,
      actor: actor.value.trim() || null,
      category: category.value || null,
      decision: decision.value || null,
      kind: kind.value.trim() || null,
      from: instant(from.value),
      to: instant(to.value),
    };
    const body = h('tbody');
    const more = h('button', { type: 'button', hidden: true }, 'Older events');
    replace(results, h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Audit events' },
      h('table', {}, h('thead', {}, h('tr', {}, ['When', 'Event', 'Patient', 'Actor', 'Category', 'Purpose', 'Decision', 'Ledger'].map((c) => h('th', { scope: 'col' }, c)))), body)), more);
    /** @param {string | null} after */
    const page = async (after) => {
      try {
        const data = await graphqlStrict(AUDIT_QUERY, { ...variables, after }, OPS);
        for (const e of data.auditTrail.nodes) {
          body.append(h('tr', {},
            h('td', {}, when(e.at)),
            h('td', {}, e.kind, e.decidedBy ? h('div', { class: 'hint' }, e.decidedBy) : null),
            h('td', {}, e.patientId ? h('code', {}, e.patientId) : '—'),
            h('td', {}, e.actor ? [h('code', {}, e.actor.userId), h('div', { class: 'hint' }, e.actor.role ?? '')] : '—'),
            h('td', {}, e.category ? categoryLabel(e.category) : '—'),
            h('td', {}, e.purpose ? purposeLabel(e.purpose) : '—'),
            h('td', {}, e.decision === 'DENY' ? h('span', { class: 'flag flag-high' }, 'refused') : e.decision === 'PERMIT' ? 'allowed' : '—'),
            h('td', {}, h('a', { href: `#/compliance/ledger/${e.ledger.index}/${encodeURIComponent(e.id)}`, 'aria-label': `Verify ledger entry ${e.ledger.index}` }, `#${e.ledger.index} verify`)),
          ));
        }
        if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 8 }, 'No events match.')));
        more.hidden = !data.auditTrail.pageInfo.hasNextPage;
        more.onclick = () => busy(more, () => page(data.auditTrail.pageInfo.endCursor));
      } catch (err) {
        more.hidden = true;
        results.append(notice('error', readable(err)));
      }
    };
    await page(null);
  };
  await busy(search, () => run());
}

const DISCLOSURES_QUERY = `query Disclosures($p: ID!, $from: DateTime!, $to: DateTime) {
  disclosures(patientId: $p, from: $from, to: $to) {
    patientId from to csv
    lines { recipient { userId role institutionId practitionerId } category purpose service accesses firstAt lastAt }
  }
}`;

/** @param {HTMLElement} target */
function renderDisclosures(target) {
  const patient = h('input', { name: 'patient', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const yearAgo = new Date(Date.now() - 365 * 86_400_000);
  const from = h('input', { type: 'date', name: 'from', required: true, value: yearAgo.toISOString().slice(0, 10) });
  const to = h('input', { type: 'date', name: 'to' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Show disclosures');
  const out = h('div', { 'aria-live': 'polite' });
  replace(
    target,
    h('h2', {}, 'Accounting of disclosures'),
    h('form', {
      class: 'card filters',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        busy(submit, async () => {
          try {
            const variables = { p: patient.value.trim(), from: new Date(`${from.value}T00:00:00`).toISOString(), to: to.value ? new Date(`${to.value}T23:59:59.999`).toISOString() : null };
            const { disclosures: d } = await graphqlStrict(DISCLOSURES_QUERY, variables, OPS);
            const csvUrl = URL.createObjectURL(new Blob([d.csv], { type: 'text/csv' }));
            replace(out,
              h('p', {}, `${d.lines.length} lines for ${d.patientId}, ${when(d.from)} to ${when(d.to)}. `,
                h('a', { href: csvUrl, download: `disclosures-${d.patientId}.csv`, class: 'button' }, 'Download CSV')),
              h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Disclosures' },
                h('table', {},
                  h('thead', {}, h('tr', {}, ['Recipient', 'Data', 'Purpose', 'Service', 'Accesses', 'First', 'Last'].map((c) => h('th', { scope: 'col' }, c)))),
                  h('tbody', {}, d.lines.map((/** @type {any} */ l) => h('tr', {},
                    h('td', {}, h('code', {}, l.recipient.userId), h('div', { class: 'hint' }, `${l.recipient.role ?? ''} ${l.recipient.institutionId ?? ''}`)),
                    h('td', {}, categoryLabel(l.category)),
                    h('td', {}, purposeLabel(l.purpose)),
                    h('td', {}, l.service),
                    h('td', { class: 'num' }, l.accesses),
                    h('td', {}, when(l.firstAt)),
                    h('td', {}, when(l.lastAt)),
                  ))),
                )));
          } catch (err) {
            replace(out, notice('error', readable(err)));
          }
        });
      },
    },
    h('div', { class: 'grid' }, field('Patient id', patient), field('From', from), field('Until (optional)', to)),
    submit),
    out,
  );
}

const REVIEWS_QUERY = `query Reviews($pending: Boolean) {
  breakGlassReviews(pendingOnly: $pending) { id patientId userId justification startedAt expiresAt reviewedAt reviewedBy reviewNote }
}`;

/** @param {HTMLElement} target */
async function renderBreakGlass(target) {
  const pendingOnly = h('input', { type: 'checkbox', id: 'pending-only', checked: true });
  const list = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    try {
      const data = await graphqlStrict(REVIEWS_QUERY, { pending: pendingOnly.checked }, OPS);
      const rows = data.breakGlassReviews;
      replace(list, rows.length ? h('ul', { class: 'plain review-list' }, rows.map((/** @type {any} */ r) => reviewItem(r, load))) : h('p', { class: 'card' }, pendingOnly.checked ? 'Nothing waits for review.' : 'No break-the-glass accesses yet.'));
    } catch (err) {
      replace(list, notice('error', readable(err)));
    }
  };
  pendingOnly.addEventListener('change', load);
  replace(target, h('h2', {}, 'Break-the-glass review queue'), h('div', { class: 'check' }, pendingOnly, h('label', { for: 'pending-only' }, 'Only those waiting for review')), list);
  await load();
}

/**
 * @param {any} r
 * @param {() => Promise<void>} reload
 */
function reviewItem(r, reload) {
  const note = h('textarea', { name: 'note', required: true, rows: 2 });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Record review');
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  return h('li', { class: 'card', 'data-review-id': r.id },
    h('p', {}, h('strong', {}, `User ${r.userId}`), ` opened patient ${r.patientId}, ${when(r.startedAt)} until ${when(r.expiresAt)}.`),
    h('blockquote', {}, r.justification),
    r.reviewedAt
      ? h('p', {}, `Reviewed ${when(r.reviewedAt)} by ${r.reviewedBy}: ${r.reviewNote}`)
      : h('form', {
          onsubmit: (/** @type {SubmitEvent} */ e) => {
            e.preventDefault();
            busy(submit, async () => {
              try {
                await graphqlStrict('mutation Review($id: ID!, $note: String!) { reviewBreakGlass(id: $id, note: $note) { id reviewedAt } }', { id: r.id, note: note.value }, OPS);
                await reload();
              } catch (err) {
                replace(status, notice('error', readable(err)));
              }
            });
          },
        }, field('Review note', note), submit, status),
  );
}

// ——— The ledger ————————————————————————————————————————————————————————————————

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

/**
 * @param {HTMLElement} target
 * @param {string[]} args [entry index, event id]
 */
async function renderLedger(target, args) {
  const keyArea = h('section', { class: 'card', 'aria-labelledby': 'key-title' });
  const latestArea = h('section', { class: 'card', 'aria-labelledby': 'latest-title' });
  const historyArea = h('section', { class: 'card', 'aria-labelledby': 'history-title' });
  const verifyArea = h('section', { class: 'card verify', 'aria-labelledby': 'verify-title' });
  replace(target, h('h2', {}, 'Ledger'), verifyArea, latestArea, historyArea, keyArea);

  let trusted;
  try {
    trusted = await trustedKey();
  } catch (err) {
    replace(keyArea, h('h3', { id: 'key-title' }, 'Trusted key'), notice('error', err instanceof VerifyError ? `The ledger key is unusable: ${err.message}` : readable(err)));
    return;
  }
  renderKey(keyArea, trusted, () => renderLedger(target, args));
  const verifier = trusted.verifier;

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
      ),
      h('details', {}, h('summary', {}, 'The signed note'), h('pre', {}, note)),
    );
  } catch (err) {
    replace(latestArea, h('h3', { id: 'latest-title' }, 'Latest checkpoint'), notice('error', err instanceof VerifyError ? `✗ The latest checkpoint does not verify: ${err.message}` : readable(err)));
  }
  await renderHistory(historyArea, trusted.chain.keys, latest);
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
 * @param {number} [before]
 */
async function renderHistory(area, keys, latest, before) {
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
      return h('tr', {},
        h('td', { class: 'num' }, c.size),
        h('td', {}, when(c.publishedAt)),
        h('td', {}, h('code', { class: 'hash' }, c.root)),
        h('td', {}, signature),
        h('td', {}, consistent));
    }));
    const older = h('button', { type: 'button' }, 'Older checkpoints');
    older.addEventListener('click', () => busy(older, () => renderHistory(area, keys, latest, page.next.before)));
    replace(area, title,
      h('p', { class: 'hint' }, 'Each checkpoint’s signature, and its consistency with the latest one (the log only grew; nothing was rewritten), checked in your browser.'),
      h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Checkpoint history' },
        h('table', {}, h('thead', {}, h('tr', {}, ['Entries', 'Published', 'Root hash', 'Signature', 'Consistent with latest'].map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows))),
      before !== undefined ? h('button', { type: 'button', onclick: () => renderHistory(area, keys, latest) }, 'Newest') : null,
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
