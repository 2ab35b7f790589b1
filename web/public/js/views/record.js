// @ts-check
/**
 * One patient's record, by category. What consent hides is shown as hidden — with the
 * server's reason and, on request, which consent or policy decides — never silently left
 * out. Used by the patient's own page and by clinicians and researchers.
 */
import { forbiddenAt, graphql, readable } from '../api.js';
import { timeSeries } from '../chart.js';
import { busy, field, h, hiddenBadge, notice, replace, select } from '../dom.js';
import { collectReadings } from '../readings.js';
import { categoryLabel, day, num, when } from '../format.js';

/**
 * One root field per category: a category consent hides is null with a FORBIDDEN error
 * there, and — the lists being non-null in the schema — would otherwise take the whole
 * patient with it. (Query.patient itself needs DEMOGRAPHICS.)
 */
export const RECORD_QUERY = `query Record($id: ID!) {
  demographics: patient(id: $id) { id name { text } birthDate sex institution { id name } identifiers { system value } }
  labs: patient(id: $id) {
    labResults(first: 100) {
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
    section('DEVICES', forbiddenAt(errors, ['devices']), () => devices(data.devices?.devices, ctx), ctx),
    section('RESEARCH', forbiddenAt(errors, ['research']), () => research(data.research?.researchProjects), ctx),
  );
  return p;
}

/** The portal's name for a metric, and how many decimals it deserves. */
const METRIC = /** @type {Record<string, { label: string, digits: number }>} */ ({
  HEART_RATE: { label: 'Heart rate', digits: 0 },
  SPO2: { label: 'SpO2 (oxygen saturation)', digits: 0 },
  GLUCOSE: { label: 'Glucose', digits: 0 },
});

/**
 * Lab results as one trend chart per LOINC code (the reference range as a band, abnormal
 * results marked), each with the table of its results.
 * @param {any} conn
 */
function labs(conn) {
  if (!conn) return h('p', {}, 'The lab results could not be loaded.');
  if (conn.totalCount === 0) return h('p', { class: 'empty' }, 'No lab results yet: nothing has been reported by a laboratory for this patient, or consent leaves every result out.');
  /** @type {Map<string, any[]>} */
  const byCode = new Map();
  for (const r of conn.nodes) byCode.set(r.code.code, [...(byCode.get(r.code.code) ?? []), r]);
  return [
    h('p', { class: 'hint' }, conn.nodes.length < conn.totalCount ? `The latest ${conn.nodes.length} of ${conn.totalCount} results, by test.` : `All ${conn.totalCount} results, by test.`),
    h('div', { class: 'chart-grid' }, [...byCode.values()].map((results) => {
      const first = results[0];
      const ref = results.find((r) => r.referenceRange)?.referenceRange ?? null;
      return timeSeries({
        title: `${first.code.display} (LOINC ${first.code.code})`,
        unit: first.unit,
        band: ref,
        columns: ['Taken', 'Value', 'Reference', 'Flag'],
        points: results.map((r) => ({
          t: Date.parse(r.effectiveAt),
          v: r.value,
          abnormal: r.interpretation !== 'NORMAL',
          row: [
            day(r.effectiveAt),
            `${num(r.value)} ${r.unit}`,
            range(r.referenceRange),
            h('span', { class: `flag flag-${String(r.interpretation).toLowerCase()}` }, String(r.interpretation).toLowerCase().replace('_', ' ')),
          ],
        })),
      });
    })),
  ];
}

/** @param {{ low: number | null, high: number | null } | null} r */
function range(r) {
  if (!r || (r.low === null && r.high === null)) return '—';
  if (r.low === null) return `≤ ${num(r.high)}`;
  if (r.high === null) return `≥ ${num(r.low)}`;
  return `${num(r.low)}–${num(r.high)}`;
}

/**
 * @param {any[] | null} list
 * @param {{ purpose?: string }} ctx
 */
function devices(list, ctx) {
  if (!list || list.length === 0) return h('p', { class: 'empty' }, 'No devices: no wearable, pulse oximeter or glucose monitor is registered for this patient.');
  return h(
    'ul',
    { class: 'plain' },
    list.map((d) =>
      h(
        'li',
        { class: 'device', 'data-device-id': d.id },
        h('h4', {}, `${d.model} `, h('span', { class: 'hint' }, `(${d.kind.toLowerCase().replace('_', ' ')}, ${d.serial})`)),
        // readings is nullable (a refusal costs only that field): say so rather than fail.
        !d.readings
          ? h('p', {}, 'Readings could not be shown.')
          : d.readings.nodes.length
          ? [
              h('p', {}, d.readings.nodes.map((/** @type {any} */ r, /** @type {number} */ i) => `${i ? ' · ' : 'Latest: '}${r.metric.toLowerCase().replace('_', ' ')} ${num(r.value, 0)} ${r.unit} (${when(r.recordedAt)})`)),
              readingsPanel(d, ctx),
            ]
          : h('p', { class: 'empty' }, 'No readings yet: this device has not sent any.'),
      ),
    ),
  );
}

const PERIODS = /** @type {Array<[string, string, number]>} */ ([
  ['24h', '24 hours', 24 * 3600_000],
  ['7d', '7 days', 7 * 24 * 3600_000],
  ['30d', '30 days', 30 * 24 * 3600_000],
  ['custom', 'Custom…', 0],
]);

/** @param {Date} d a datetime-local value in local time */
const localInput = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

/**
 * Heart rate, SpO2 and glucose over a chosen period, as time series. A period ends at the
 * device's latest reading (said on the page), so an idle device still shows its last data.
 * @param {any} d
 * @param {{ purpose?: string }} ctx
 */
function readingsPanel(d, ctx) {
  const latest = new Date(d.readings.nodes[0].recordedAt);
  const end = new Date(latest.getTime() + 1); // `until` is exclusive
  const period = select({ name: 'period' }, PERIODS.map(([v, l]) => [v, l]));
  period.value = '7d';
  const from = h('input', { type: 'datetime-local', name: 'from', value: localInput(new Date(end.getTime() - 7 * 24 * 3600_000)) });
  const to = h('input', { type: 'datetime-local', name: 'to', value: localInput(end) });
  const custom = h('div', { class: 'row', hidden: true }, field('From', from), field('To', to));
  const out = h('div', { class: 'readings-charts', 'aria-live': 'polite' });
  const show = h('button', { type: 'submit' }, 'Show readings');
  period.addEventListener('change', () => {
    custom.hidden = period.value !== 'custom';
  });
  const load = () =>
    busy(show, async () => {
      let since;
      let until = end;
      if (period.value === 'custom') {
        since = new Date(from.value);
        until = new Date(to.value);
        if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()) || since >= until) {
          replace(out, notice('error', 'Choose a start before the end.'));
          return;
        }
      } else {
        since = new Date(end.getTime() - (PERIODS.find(([v]) => v === period.value)?.[2] ?? 0));
      }
      replace(out, h('p', { class: 'loading' }, 'Loading readings…'));
      const got = await collectReadings(d.id, since, until, { purpose: ctx.purpose });
      const span = `${when(since.toISOString())} – ${when(until.toISOString())}`;
      const metrics = ['HEART_RATE', 'SPO2', 'GLUCOSE'].filter((m) => got.readings.some((r) => r.metric === m));
      replace(
        out,
        got.error ? notice('error', got.error) : null,
        got.capped ? notice('info', `Showing the first ${got.readings.length} of ${got.total} readings in this period (the limit for one chart). Choose a shorter period to see the rest.`) : null,
        !got.error && got.readings.length === 0 ? h('p', { class: 'empty' }, `No readings from ${span}. The latest reading is from ${when(latest.toISOString())}.`) : null,
        metrics.map((m) => {
          const rows = got.readings.filter((r) => r.metric === m);
          const unit = rows[0]?.unit ?? '';
          return timeSeries({
            title: `${METRIC[m]?.label ?? m}, ${span}`,
            unit,
            points: rows.map((r) => ({ t: Date.parse(r.recordedAt), v: r.value, row: [when(r.recordedAt), `${num(r.value, METRIC[m]?.digits ?? 1)} ${r.unit}`] })),
            columns: ['Recorded', 'Value'],
            timeLabel: (t) => when(new Date(t).toISOString()),
            tableOpen: false,
          });
        }),
      );
    });
  const form = h(
    'form',
    {
      class: 'inline-form period',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        load();
      },
    },
    field('Period', period, `Ending at the latest reading, ${when(latest.toISOString())}.`),
    custom,
    show,
  );
  queueMicrotask(load);
  return h('div', { class: 'readings' }, form, out);
}

/** @param {any[] | null} list */
function research(list) {
  if (!list || list.length === 0) return h('p', { class: 'empty' }, 'Not enrolled in any research project.');
  return h(
    'ul',
    { class: 'plain' },
    list.map((e) => h('li', {}, h('strong', {}, e.project.title), ` — ${e.status.toLowerCase()} since ${day(e.enrolledAt)}${e.pseudonym ? `; named ${e.pseudonym} in results` : ''}`)),
  );
}
