// @ts-check
/**
 * One patient's record, by category. What consent hides is shown as hidden — with the
 * server's reason and, on request, which consent or policy decides — never silently left
 * out. Used by the patient's own page and by clinicians and researchers.
 */
import { forbiddenAt, graphql, readable } from '../api.js';
import { busy, h, hiddenBadge, notice, replace } from '../dom.js';
import { categoryLabel, day, num, when } from '../format.js';

/**
 * One root field per category: a category consent hides is null with a FORBIDDEN error
 * there, and — the lists being non-null in the schema — would otherwise take the whole
 * patient with it. (Query.patient itself needs DEMOGRAPHICS.)
 */
export const RECORD_QUERY = `query Record($id: ID!) {
  demographics: patient(id: $id) { id name { text } birthDate sex institution { id name } identifiers { system value } }
  labs: patient(id: $id) {
    labResults(first: 20) {
      totalCount
      nodes { id code { code display } value unit interpretation status effectiveAt referenceRange { low high } }
    }
  }
  devices: patient(id: $id) { devices { id kind model serial readings(first: 3) { totalCount nodes { metric value unit recordedAt } } } }
  research: patient(id: $id) { researchProjects { status enrolledAt pseudonym project { id title } } }
}`;

/**
 * A "Why?" button that asks the server which consent or policy decides, and why.
 * @param {string} patientId
 * @param {string} category
 * @param {string | undefined} purpose
 */
export function whyButton(patientId, category, purpose) {
  const out = h('span', { class: 'explain', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'link' }, `Why is ${categoryLabel(category).toLowerCase()} hidden?`);
  button.addEventListener('click', () =>
    busy(button, async () => {
      try {
        const { data, errors } = await graphql(
          'query Why($p: ID!, $c: DataCategory!) { explainAccess(patientId: $p, category: $c) { allowed decidedBy reason } }',
          { p: patientId, c: category },
          { purpose },
        );
        const e = data?.explainAccess;
        replace(out, e ? `${e.reason} (${e.decidedBy})` : readable(errors?.[0]));
      } catch (err) {
        replace(out, readable(err));
      }
    }),
  );
  return h('span', {}, button, ' ', out);
}

/**
 * A card headed by the category's name.
 * @param {string} category
 * @param {import('../api.js').GraphQLError | undefined} forbidden
 * @param {() => import('../dom.js').Children} body
 * @param {{ patientId: string, purpose?: string, explain: boolean }} ctx
 */
function section(category, forbidden, body, ctx) {
  const id = `sec-${category.toLowerCase()}`;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': id, 'data-category': category },
    h('h3', { id }, categoryLabel(category)),
    forbidden
      ? h('p', {}, hiddenBadge(categoryLabel(category), readable(forbidden)), ctx.explain ? h('br') : null, ctx.explain ? whyButton(ctx.patientId, category, ctx.purpose) : null)
      : body(),
  );
}

/**
 * Renders the record of `patientId` into `target`; returns the patient (null if hidden).
 * @param {HTMLElement} target
 * @param {string} patientId
 * @param {{ purpose?: string, explain?: boolean, heading?: string }} [options]
 */
export async function renderRecord(target, patientId, options = {}) {
  const ctx = { patientId, purpose: options.purpose, explain: options.explain ?? false };
  replace(target, h('p', { class: 'loading' }, 'Loading the record…'));
  let result;
  try {
    result = await graphql(RECORD_QUERY, { id: patientId }, { purpose: options.purpose });
  } catch (err) {
    replace(target, notice('error', readable(err)));
    return null;
  }
  const { data, errors } = result;
  const p = data?.demographics;
  if (!p) {
    const forbidden = forbiddenAt(errors, ['demographics']);
    replace(
      target,
      h(
        'section',
        { class: 'card record-hidden', 'data-state': forbidden ? 'forbidden' : 'error' },
        h('h2', {}, options.heading ?? 'Patient record'),
        forbidden
          ? h('p', {}, hiddenBadge('This record is', readable(forbidden)))
          : notice('error', readable(errors?.[0])),
        forbidden ? h('p', { class: 'hint' }, 'A record you may not see and a record that does not exist look the same here.') : null,
        forbidden && ctx.explain ? h('p', {}, whyButton(patientId, 'DEMOGRAPHICS', ctx.purpose)) : null,
      ),
    );
    return null;
  }
  const other = (errors ?? []).filter((e) => e.extensions?.code !== 'FORBIDDEN');
  replace(
    target,
    h('h2', {}, options.heading ?? p.name?.text ?? 'Patient record'),
    other.length ? notice('error', readable(other[0])) : null,
    section('DEMOGRAPHICS', forbiddenAt(errors, ['demographics']), () =>
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Name'), h('dd', {}, p.name?.text ?? '—'),
        h('dt', {}, 'Born'), h('dd', {}, day(p.birthDate)),
        h('dt', {}, 'Sex'), h('dd', {}, (p.sex ?? '—').toLowerCase()),
        h('dt', {}, 'Cared for at'), h('dd', {}, p.institution?.name ?? '—'),
        (p.identifiers ?? []).map((/** @type {any} */ i) => [h('dt', {}, 'Record number'), h('dd', {}, i.value)]),
      ), ctx),
    section('LABS', forbiddenAt(errors, ['labs']), () => labs(data.labs?.labResults), ctx),
    section('DEVICES', forbiddenAt(errors, ['devices']), () => devices(data.devices?.devices), ctx),
    section('RESEARCH', forbiddenAt(errors, ['research']), () => research(data.research?.researchProjects), ctx),
  );
  return p;
}

/** @param {any} conn */
function labs(conn) {
  if (!conn || conn.totalCount === 0) return h('p', {}, 'No lab results.');
  return [
    h('p', { class: 'hint' }, `The latest ${conn.nodes.length} of ${conn.totalCount} results.`),
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Lab results' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['Test', 'Value', 'Reference', 'Flag', 'Taken'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          conn.nodes.map((/** @type {any} */ r) =>
            h(
              'tr',
              {},
              h('td', {}, r.code.display),
              h('td', { class: 'num' }, `${num(r.value)} ${r.unit}`),
              h('td', { class: 'num' }, range(r.referenceRange)),
              h('td', {}, h('span', { class: `flag flag-${String(r.interpretation).toLowerCase()}` }, String(r.interpretation).toLowerCase().replace('_', ' '))),
              h('td', {}, day(r.effectiveAt)),
            ),
          ),
        ),
      ),
    ),
  ];
}

/** @param {{ low: number | null, high: number | null } | null} r */
function range(r) {
  if (!r || (r.low === null && r.high === null)) return '—';
  if (r.low === null) return `≤ ${num(r.high)}`;
  if (r.high === null) return `≥ ${num(r.low)}`;
  return `${num(r.low)}–${num(r.high)}`;
}

/** @param {any[] | null} list */
function devices(list) {
  if (!list || list.length === 0) return h('p', {}, 'No devices.');
  return h(
    'ul',
    { class: 'plain' },
    list.map((d) =>
      h(
        'li',
        {},
        h('strong', {}, `${d.model} `), `(${d.kind.toLowerCase().replace('_', ' ')}, ${d.serial})`,
        h('br'),
        d.readings.nodes.length
          ? d.readings.nodes.map((/** @type {any} */ r, /** @type {number} */ i) => `${i ? ' · ' : 'Latest: '}${r.metric.toLowerCase().replace('_', ' ')} ${num(r.value, 0)} ${r.unit} (${when(r.recordedAt)})`)
          : 'No readings yet.',
      ),
    ),
  );
}

/** @param {any[] | null} list */
function research(list) {
  if (!list || list.length === 0) return h('p', {}, 'Not enrolled in any research project.');
  return h(
    'ul',
    { class: 'plain' },
    list.map((e) => h('li', {}, h('strong', {}, e.project.title), ` — ${e.status.toLowerCase()} since ${day(e.enrolledAt)}${e.pseudonym ? `; named ${e.pseudonym} in results` : ''}`)),
  );
}
