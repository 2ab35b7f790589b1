// @ts-check
/**
 * The compliance view: the audit trail with filters, the accounting of disclosures
 * (with its CSV export), the break-the-glass review queue, and the ledger (ledger-view.js),
 * whose checkpoints and inclusion proofs this page verifies itself, with WebCrypto.
 */
import { ApiError, graphql, graphqlStrict, readable } from '../api.js';
import { busy, field, h, notice, replace, select } from '../dom.js';
import { categoryLabel, purposeLabel, when } from '../format.js';
import { CATEGORIES } from '../vocabulary.js';
import { ACTOR_FIELDS, actorCell, actorName, actorRole, idDetails, patientCell } from './people.js';
import { disclosuresCsv } from './disclosures-csv.js';
import { renderLedger } from './ledger-view.js';

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

/**
 * The data of a query that federates names: an error under a name (a practitioner or
 * institution record gone) leaves that name out, as the ids still say who; any other
 * error is thrown.
 * @param {string} query
 * @param {Record<string, unknown>} variables
 */
async function withNames(query, variables) {
  const result = await graphql(query, variables, OPS);
  const other = (result.errors ?? []).find((e) => !e.path?.some((p) => p === 'practitioner' || p === 'institution'));
  if (other) throw new ApiError(other.extensions?.code ?? 'INTERNAL', readable(other));
  return result.data;
}

const AUDIT_QUERY = `query Audit($patientId: ID, $actor: ID, $practitionerId: ID, $category: DataCategory, $decision: AccessDecision, $kind: String, $from: DateTime, $to: DateTime, $after: String) {
  auditTrail(patientId: $patientId, actor: $actor, practitionerId: $practitionerId, category: $category, decision: $decision, kind: $kind, from: $from, to: $to, first: 25, after: $after) {
    nodes { id kind at patientId category action purpose decision decidedBy service requestId actor { ${ACTOR_FIELDS} } ledger { index } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** @param {HTMLElement} target */
async function renderAudit(target) {
  const patient = h('input', { name: 'patient', autocapitalize: 'none', spellcheck: 'false' });
  const person = personSearch();
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
      field('Patient id', patient, 'Patients are found by id: their names are personal details, which compliance does not see.'),
      person.field,
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
      ...person.chosen(),
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
        const data = await withNames(AUDIT_QUERY, { ...variables, after });
        for (const e of data.auditTrail.nodes) {
          body.append(h('tr', {},
            h('td', {}, when(e.at)),
            h('td', {}, e.kind, e.decidedBy ? h('div', { class: 'hint' }, e.decidedBy) : null),
            h('td', {}, patientCell(e.patientId)),
            h('td', {}, actorCell(e.actor)),
            h('td', {}, e.category ? categoryLabel(e.category) : '—'),
            h('td', {}, e.purpose ? purposeLabel(e.purpose) : '—'),
            h('td', {}, e.decision === 'DENY' ? h('span', { class: 'flag flag-high' }, 'refused') : e.decision === 'PERMIT' ? 'allowed' : '—'),
            h('td', {}, h('a', { href: `#/compliance/ledger/${e.ledger.index}/${encodeURIComponent(e.id)}` }, `Verify ledger entry ${e.ledger.index}`)),
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
    lines { recipient { ${ACTOR_FIELDS} } category purpose service accesses firstAt lastAt }
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
            const { disclosures: d } = await withNames(DISCLOSURES_QUERY, variables);
            const csvUrl = URL.createObjectURL(new Blob([disclosuresCsv(d.lines)], { type: 'text/csv' }));
            replace(out,
              h('p', {}, `${d.lines.length} lines for ${d.patientId}, ${when(d.from)} to ${when(d.to)}. `,
                h('a', { href: csvUrl, download: `disclosures-${d.patientId}.csv`, class: 'button' }, 'Download CSV')),
              h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Disclosures' },
                h('table', {},
                  h('thead', {}, h('tr', {}, ['Recipient', 'Data', 'Purpose', 'Service', 'Accesses', 'First', 'Last'].map((c) => h('th', { scope: 'col' }, c)))),
                  h('tbody', {}, d.lines.map((/** @type {any} */ l) => h('tr', {},
                    h('td', {}, actorCell(l.recipient)),
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
    h('div', { class: 'grid' }, field('Patient id', patient, 'Patients are found by id: their names are personal details, which compliance does not see.'), field('From', from), field('Until (optional)', to)),
    submit),
    out,
  );
}

const REVIEWS_QUERY = `query Reviews($pending: Boolean) {
  breakGlassReviews(pendingOnly: $pending) {
    id patientId userId justification startedAt expiresAt reviewedAt reviewedBy reviewNote
    openedBy { ${ACTOR_FIELDS} }
  }
}`;

/** @param {HTMLElement} target */
async function renderBreakGlass(target) {
  const pendingOnly = h('input', { type: 'checkbox', id: 'pending-only', checked: true });
  const list = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    try {
      const data = await withNames(REVIEWS_QUERY, { pending: pendingOnly.checked });
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
    h('p', {},
      h('strong', { class: 'person', title: `User ${r.userId}` }, actorName(r.openedBy)), ` (${actorRole(r.openedBy)}) opened `,
      h('span', { class: 'person', title: `Patient ${r.patientId}` }, 'patient '), h('code', {}, r.patientId),
      `, ${when(r.startedAt)} until ${when(r.expiresAt)}.`),
    idDetails([['User', r.openedBy.userId], ['Practitioner', r.openedBy.practitionerId], ['Institution', r.openedBy.institutionId], ['Patient', r.patientId], ['Access', r.id]]),
    h('blockquote', {}, r.justification),
    readsUnder(r.id),
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

/**
 * What was read under a break-the-glass access, from the ledger (BreakGlassAccess.accesses):
 * a summary by category, then each access — shown before the review form, so the
 * reviewer decides on what was done, not only on what was said.
 * One query per access: the queue with every access under each would be over the cost limit.
 * @param {string} id
 */
function readsUnder(id) {
  const titleId = `reads-${id}`;
  const section = h('section', { class: 'reads', 'aria-labelledby': titleId, 'aria-busy': 'true' }, h('h3', { id: titleId }, 'What was read'), h('p', {}, 'Loading what was read…'));
  graphqlStrict(READS_QUERY, { id }, OPS)
    .then((data) => replace(section, ...readsList(id, titleId, data.breakGlassAccess.accesses)))
    .catch((err) => replace(section, h('h3', { id: titleId }, 'What was read'), notice('error', readable(err))))
    .finally(() => section.removeAttribute('aria-busy'));
  return section;
}

const READS_QUERY = `query Reads($id: ID!) { breakGlassAccess(id: $id) { accesses { id at category action purpose decision service } } }`;

/**
 * @param {string} id
 * @param {string} titleId
 * @param {any[]} reads
 */
function readsList(id, titleId, reads) {
  if (!reads.length) return [h('h3', { id: titleId }, 'What was read'), h('p', {}, 'Nothing was read under this access (or the ledger has not recorded it yet).')];
  /** @type {Map<string, number>} */
  const byCategory = new Map();
  for (const a of reads) byCategory.set(a.category ?? 'UNKNOWN', (byCategory.get(a.category ?? 'UNKNOWN') ?? 0) + 1);
  return [
    h('h3', { id: titleId }, `What was read: ${reads.length} ${reads.length === 1 ? 'access' : 'accesses'}`),
    h('p', {}, [...byCategory].map(([c, n]) => `${categoryLabel(c)} (${n})`).join(', ')),
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `Accesses under ${id}` },
      h('table', { class: 'reads-table' },
        h('thead', {}, h('tr', {}, ['When', 'Data', 'Action', 'Service', 'Decision'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, reads.map((a) => h('tr', {},
          h('td', {}, when(a.at)),
          h('td', {}, a.category ? categoryLabel(a.category) : '—'),
          h('td', {}, a.action ? a.action.toLowerCase() : '—'),
          h('td', {}, a.service ?? '—'),
          h('td', {}, a.decision === 'DENY' ? 'refused' : 'allowed'),
        ))))),
  ];
}

const PEOPLE_QUERY = `query People($q: String!) { practitioners(nameStartsWith: $q, first: 10) { id name { text } role institution { name } } }`;

/**
 * The audit trail's person filter: a name with suggestions (a native <datalist>
 * combobox, keyboard usable), or a pasted user id (usr_…) or practitioner id (prac_…).
 * Suggestions come from practitioners(nameStartsWith), the public staff directory.
 */
function personSearch() {
  const input = h('input', { name: 'person', list: 'person-suggestions', autocomplete: 'off', spellcheck: 'false' });
  const options = h('datalist', { id: 'person-suggestions' });
  /** @type {Map<string, string>} suggestion text → practitioner id */
  const known = new Map();
  let asked = '';
  let timer = 0;
  const suggest = async () => {
    const q = input.value.trim();
    if (q.length < 2 || q === asked || known.has(q) || /^(usr|prac)_/.test(q)) return;
    asked = q;
    try {
      const { data } = await graphql(PEOPLE_QUERY, { q }, OPS);
      if (asked !== q) return; // a later keystroke asked again
      replace(options, (data?.practitioners ?? []).map((/** @type {any} */ p) => {
        const text = `${p.name.text} — ${p.role.toLowerCase().replace(/_/g, ' ')}, ${p.institution.name}`;
        known.set(text, p.id);
        return h('option', { value: text });
      }));
    } catch {
      // Suggestions are a help: without them a name or id is still searched as typed.
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(suggest, 200);
  });
  return {
    field: h('div', {}, field('Person (name, user id or practitioner id)', input, 'Type two letters of a name for suggestions.'), options),
    /** The filter the input stands for: a chosen suggestion or a pasted id. */
    chosen() {
      const v = input.value.trim();
      if (!v) return { actor: null, practitionerId: null };
      if (known.has(v)) return { actor: null, practitionerId: known.get(v) ?? null };
      if (/^prac_/.test(v)) return { actor: null, practitionerId: v };
      return { actor: v, practitionerId: null };
    },
  };
}
