// @ts-check
/**
 * Clinicians: the patients they may see (those of their institution, and those who
 * consented), one patient's record, and break-the-glass for emergencies. Whatever
 * consent hides is marked hidden.
 */
import { forbiddenAt, graphql, graphqlStrict, readable } from '../api.js';
import { busy, field, h, hiddenBadge, notice, replace } from '../dom.js';
import { categoryLabel, day, when } from '../format.js';
import { renderRecord } from './record.js';

const PATIENTS_QUERY = `query MyPatients($after: String) {
  patients(first: 20, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name { text } birthDate institution { name } labResults(first: 1) { totalCount nodes { code { display } value unit effectiveAt } } }
  }
}`;

/** Break-the-glass accesses opened in this tab: patient id → expiry. */
const GLASS_KEY = 'custodian.breakGlass';
/** @returns {Record<string, string>} */
const glass = () => JSON.parse(sessionStorage.getItem(GLASS_KEY) ?? '{}');
/** @param {string} patientId */
function emergencyFor(patientId) {
  const until = glass()[patientId];
  return until && new Date(until) > new Date() ? until : null;
}

/** @param {HTMLElement} main */
export async function renderPatientList(main) {
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'More patients');
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const count = h('p', { class: 'hint' });
  const idInput = h('input', { name: 'patient-id', required: true, autocapitalize: 'none', spellcheck: 'false', placeholder: 'pat_…' });
  const open = h(
    'form',
    {
      class: 'card inline-form',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        location.hash = `#/patient/${encodeURIComponent(idInput.value.trim())}`;
      },
    },
    field('Open a patient by id', idInput),
    h('button', { type: 'submit' }, 'Open'),
  );
  replace(
    main,
    h('h1', {}, 'Patients'),
    open,
    h('section', { class: 'card', 'aria-labelledby': 'list-title' },
      h('h2', { id: 'list-title' }, 'Patients you may see'),
      count,
      h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Patients' },
        h('table', {}, h('thead', {}, h('tr', {}, ['Patient', 'Born', 'Cared for at', 'Latest lab result'].map((c) => h('th', { scope: 'col' }, c)))), body)),
      more,
      status,
    ),
  );
  /** @param {string | null} after */
  const load = async (after) => {
    try {
      const { data, errors } = await graphql(PATIENTS_QUERY, { after });
      const conn = data?.patients;
      if (!conn) throw errors?.[0] ?? new Error('no patients');
      count.textContent = `${conn.totalCount} patients. Only patients you may see are listed and counted.`;
      conn.nodes.forEach((/** @type {any} */ p, /** @type {number} */ i) => {
        const hiddenLabs = forbiddenAt(errors, ['patients', 'nodes', i, 'labResults']);
        const lab = p.labResults?.nodes?.[0];
        body.append(
          h('tr', {},
            h('td', {}, h('a', { href: `#/patient/${encodeURIComponent(p.id)}` }, p.name.text)),
            h('td', {}, day(p.birthDate)),
            h('td', {}, p.institution?.name ?? '—'),
            h('td', {}, hiddenLabs ? hiddenBadge(categoryLabel('LABS'), 'the patient has not consented') : lab ? `${lab.code.display}: ${lab.value} ${lab.unit} (${day(lab.effectiveAt)})` : 'none'),
          ),
        );
      });
      if (!body.children.length) {
        body.append(h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No patients you may see: none at your institution, and none has consented to you. Open a patient by id if they gave you access, or break the glass from their record in an emergency.')));
      }
      more.hidden = !conn.pageInfo.hasNextPage;
      more.onclick = () => busy(more, () => load(conn.pageInfo.endCursor));
    } catch (err) {
      replace(status, notice('error', readable(err)));
    }
  };
  await load(null);
}

/**
 * One patient's record, for anyone but the patient; clinicians may break the glass.
 * @param {HTMLElement} main
 * @param {string} patientId
 * @param {{ role: string }} me
 */
export async function renderPatientPage(main, patientId, me) {
  const record = h('div', { class: 'record' });
  const extra = h('div');
  const emergency = me.role === 'CLINICIAN' ? emergencyFor(patientId) : null;
  replace(
    main,
    h('p', {}, h('a', { href: me.role === 'PATIENT' ? '#/me' : '#/patients' }, '← Back')),
    h('h1', {}, 'Patient record'),
    emergency ? notice('info', `Emergency access (break the glass) until ${when(emergency)}. It is being reviewed by compliance.`) : null,
    record,
    extra,
  );
  const shown = await renderRecord(record, patientId, { purpose: emergency ? 'EMERGENCY' : undefined, explain: true });
  if (!shown && me.role === 'CLINICIAN' && !emergency) extra.append(breakGlassForm(patientId, () => renderPatientPage(main, patientId, me)));
}

/**
 * @param {string} patientId
 * @param {() => void} opened
 */
function breakGlassForm(patientId, opened) {
  const reason = h('textarea', { name: 'justification', required: true, minlength: 20, rows: 3 });
  const minutes = h('input', { type: 'number', name: 'minutes', min: 1, max: 240, value: 60, required: true });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'danger' }, 'Break the glass');
  return h(
    'details',
    { class: 'card' },
    h('summary', {}, 'Emergency? Break the glass'),
    h(
      'form',
      {
        onsubmit: (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          busy(submit, async () => {
            try {
              const data = await graphqlStrict(
                'mutation Glass($p: ID!, $j: String!, $m: Int) { breakTheGlass(patientId: $p, justification: $j, minutes: $m) { id expiresAt } }',
                { p: patientId, j: reason.value, m: Number(minutes.value) },
                { purpose: 'EMERGENCY' },
              );
              sessionStorage.setItem(GLASS_KEY, JSON.stringify({ ...glass(), [patientId]: data.breakTheGlass.expiresAt }));
              opened();
            } catch (err) {
              replace(status, notice('error', readable(err)));
            }
          });
        },
      },
      h('p', {}, 'In an emergency you may see this patient’s clinical data without their consent, for a limited time. Your justification is recorded and reviewed by compliance.'),
      field('Justification', reason, 'At least 20 characters: what the emergency is.'),
      field('Minutes (at most 240)', minutes),
      submit,
      status,
    ),
  );
}
