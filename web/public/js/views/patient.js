// @ts-check
/**
 * The patient's own page: my data by category, my consents (grant; revoke in two
 * clicks), and who accessed my data, when and why (from the audit trail).
 */
import { graphql, graphqlStrict, readable } from '../api.js';
import { busy, field, h, notice, replace, select, uid } from '../dom.js';
import { categoryLabel, day, purposeLabel, when } from '../format.js';
import { GRANTABLE } from '../vocabulary.js';
import { renderRecord } from './record.js';

const DIRECTORY_QUERY = `query Directory {
  institutions { id name practitioners { id name { text } role } }
  researchProjects(first: 100) { nodes { id title institution { id } } }
}`;

const CONSENTS_QUERY = `query MyConsents($id: ID!) {
  patient(id: $id) {
    consents {
      id status effect categories purposes identified validFrom validUntil createdAt revokedAt
      grantee { kind id }
      exceptions { categories loincClass dataFrom dataUntil }
    }
  }
}`;

const GRANT = `mutation Grant($input: GrantConsentInput!) { grantConsent(input: $input) { id status } }`;
const REVOKE = `mutation Revoke($id: ID!) { revokeConsent(id: $id) { id status revokedAt } }`;

const ACCESS_LOG_QUERY = `query AccessLog($id: ID!, $after: String) {
  patient(id: $id) {
    accessLog(first: 20, after: $after) {
      nodes { id kind at category purpose decision decidedBy service actor { userId role institutionId practitionerId } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

/**
 * @typedef {{ practitioners: Map<string, string>, institutions: Map<string, string>, projects: Map<string, string>, raw: any }} Directory
 */

/** @returns {Promise<Directory>} */
async function loadDirectory() {
  const data = await graphqlStrict(DIRECTORY_QUERY);
  const practitioners = new Map();
  const institutions = new Map();
  for (const i of data.institutions) {
    institutions.set(i.id, i.name);
    for (const p of i.practitioners) practitioners.set(p.id, `${p.name.text} (${p.role.toLowerCase().replace('_', ' ')}, ${i.name})`);
  }
  const projects = new Map(data.researchProjects.nodes.map((/** @type {any} */ p) => [p.id, p.title]));
  return { practitioners, institutions, projects, raw: data };
}

/**
 * Who a consent is for, in words.
 * @param {{ kind: string, id: string }} grantee
 * @param {Directory} dir
 */
function granteeText(grantee, dir) {
  if (grantee.kind === 'PRACTITIONER') return dir.practitioners.get(grantee.id) ?? grantee.id;
  if (grantee.kind === 'PROJECT') return `research project “${dir.projects.get(grantee.id) ?? grantee.id}”`;
  const [role, institution] = grantee.id.split('@');
  return `every ${role} at ${dir.institutions.get(institution ?? '') ?? institution}`;
}

/**
 * @param {HTMLElement} main
 * @param {{ patientId: string, userId: string }} me
 */
export async function renderPatientHome(main, me) {
  const record = h('div', { class: 'record' });
  const consents = h('section', { class: 'consents', 'aria-labelledby': 'consents-title' });
  const log = h('section', { class: 'access-log', 'aria-labelledby': 'log-title' });
  replace(main, h('h1', {}, 'My record'), record, consents, log);
  let dir;
  try {
    dir = await loadDirectory();
  } catch (err) {
    replace(consents, notice('error', readable(err)));
    dir = { practitioners: new Map(), institutions: new Map(), projects: new Map(), raw: { institutions: [], researchProjects: { nodes: [] } } };
  }
  await Promise.all([
    renderRecord(record, me.patientId, { heading: 'My data' }),
    renderConsents(consents, me.patientId, dir),
    renderAccessLog(log, me, dir),
  ]);
}

/**
 * @param {HTMLElement} target
 * @param {string} patientId
 * @param {Directory} dir
 * @param {import('../dom.js').Children} [message]
 */
async function renderConsents(target, patientId, dir, message) {
  const title = h('h2', { id: 'consents-title' }, 'My consents');
  let list;
  try {
    const { data, errors } = await graphql(CONSENTS_QUERY, { id: patientId });
    if (!data?.patient?.consents) throw errors?.[0] ?? new Error('no consents');
    list = data.patient.consents;
  } catch (err) {
    replace(target, title, notice('error', readable(err)));
    return;
  }
  const reload = (/** @type {import('../dom.js').Children} */ msg) => renderConsents(target, patientId, dir, msg);
  const active = list.filter((/** @type {any} */ c) => c.status === 'ACTIVE');
  const revoked = list.filter((/** @type {any} */ c) => c.status !== 'ACTIVE');
  replace(
    target,
    title,
    h('div', { class: 'form-status', 'aria-live': 'polite' }, message ?? null),
    h('div', { class: 'card' },
      h('h3', {}, 'In force'),
      active.length
        ? h('ul', { class: 'consent-list' }, active.map((/** @type {any} */ c) => consentItem(c, dir, reload)))
        : h('p', {}, 'You have no consents in force: only you and the clinicians of your own hospital (for your treatment) see your data.'),
    ),
    grantForm(patientId, dir, reload),
    revoked.length
      ? h('details', { class: 'card' }, h('summary', {}, `Revoked consents (${revoked.length})`), h('ul', { class: 'consent-list' }, revoked.map((/** @type {any} */ c) => consentItem(c, dir, reload))))
      : null,
  );
}

/**
 * @param {any} c
 * @param {Directory} dir
 * @param {(msg: import('../dom.js').Children) => void} reload
 */
function consentItem(c, dir, reload) {
  const what = c.categories.map(categoryLabel).join(', ');
  const why = c.purposes.map(purposeLabel).join(', ');
  const period = `from ${day(c.validFrom)}${c.validUntil ? ` until ${day(c.validUntil)}` : ', no end date'}`;
  const item = h(
    'li',
    { class: `consent ${c.status.toLowerCase()}`, 'data-consent-id': c.id },
    h('p', {},
      h('strong', {}, c.effect === 'DENY' ? 'Refused: ' : 'Allowed: '),
      `${what} — to ${granteeText(c.grantee, dir)}, for ${why.toLowerCase()}, ${period}.`,
      c.identified ? ' They may see who you are.' : '',
      c.exceptions.length ? ` Except: ${c.exceptions.map((/** @type {any} */ x) => x.loincClass ?? x.categories.map(categoryLabel).join(', ')).join('; ')}.` : '',
      c.status !== 'ACTIVE' ? ` Revoked ${when(c.revokedAt)}.` : '',
    ),
  );
  if (c.status !== 'ACTIVE') return item;
  const actions = h('div', { class: 'actions' });
  const revoke = h('button', { type: 'button', class: 'danger' , 'aria-label': `Revoke: ${what} to ${granteeText(c.grantee, dir)}` }, 'Revoke');
  revoke.addEventListener('click', () => {
    // Second click confirms: the choice is spelled out, Cancel is one keystroke away.
    const yes = h('button', { type: 'button', class: 'danger' }, 'Yes, revoke now');
    const no = h('button', { type: 'button' }, 'Cancel');
    no.addEventListener('click', () => {
      replace(actions, revoke);
      revoke.focus();
    });
    yes.addEventListener('click', () =>
      busy(yes, async () => {
        try {
          await graphqlStrict(REVOKE, { id: c.id });
          reload(notice('ok', `Revoked. ${granteeText(c.grantee, dir)} can no longer see your ${what.toLowerCase()}.`));
        } catch (err) {
          replace(actions, notice('error', readable(err)), revoke);
        }
      }),
    );
    replace(actions, h('span', { class: 'confirm', role: 'group', 'aria-label': 'Confirm revocation' }, 'Stop this access now? ', yes, ' ', no));
    yes.focus();
  });
  actions.append(revoke);
  item.append(actions);
  return item;
}

/**
 * @param {string} patientId
 * @param {Directory} dir
 * @param {(msg: import('../dom.js').Children) => void} reload
 */
function grantForm(patientId, dir, reload) {
  const kind = select({ name: 'grantee-kind' }, [
    ['PRACTITIONER', 'A clinician or researcher'],
    ['ROLE', 'Everyone in a role at an institution'],
    ['PROJECT', 'A research project'],
  ]);
  /** @type {Array<[string, string]>} */
  const practitionerOptions = [];
  for (const i of dir.raw.institutions) {
    for (const p of i.practitioners) if (p.role !== 'COMPLIANCE_OFFICER') practitionerOptions.push([p.id, `${p.name.text} — ${p.role.toLowerCase()}, ${i.name}`]);
  }
  const practitioner = select({ name: 'practitioner' }, practitionerOptions);
  /** @type {Array<[string, string]>} */
  const roleOptions = dir.raw.institutions.flatMap((/** @type {any} */ i) => [
    [`clinician@${i.id}`, `Clinicians at ${i.name}`],
    [`researcher@${i.id}`, `Researchers at ${i.name}`],
  ]);
  const role = select({ name: 'role' }, roleOptions);
  const project = select({ name: 'project' }, dir.raw.researchProjects.nodes.map((/** @type {any} */ p) => [p.id, p.title]));
  const fields = {
    PRACTITIONER: field('Person', practitioner),
    ROLE: field('Role and institution', role),
    PROJECT: field('Project', project),
  };
  const identified = h('input', { type: 'checkbox', name: 'identified', id: uid() });
  const identifiedField = h('div', { class: 'check' }, identified, h('label', { for: identified.id }, 'The project may see who I am (otherwise it sees only a pseudonym)'));
  const showKind = () => {
    for (const [k, el] of Object.entries(fields)) el.hidden = k !== kind.value;
    identifiedField.hidden = kind.value !== 'PROJECT';
  };
  kind.addEventListener('change', showKind);

  /**
   * @param {string} legend
   * @param {string} name
   * @param {Array<[string, string]>} options
   */
  const checks = (legend, name, options) =>
    h('fieldset', {}, h('legend', {}, legend), options.map(([value, label]) => {
      const box = h('input', { type: 'checkbox', name, value, id: uid() });
      return h('div', { class: 'check' }, box, h('label', { for: box.id }, label));
    }));
  const categories = checks('What', 'category', GRANTABLE.map((c) => [c, categoryLabel(c)]));
  const purposes = checks('For what purpose', 'purpose', [
    ['TREATMENT', 'Treatment'],
    ['RESEARCH', 'Research'],
    ['EMERGENCY', 'Emergencies'],
  ]);
  const from = h('input', { type: 'date', name: 'from' });
  const until = h('input', { type: 'date', name: 'until' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Grant access');
  const form = h(
    'form',
    {
      class: 'card grant',
      'aria-labelledby': 'grant-title',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const picked = (/** @type {HTMLElement} */ set) => [...set.querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
        const cats = picked(categories);
        const purps = picked(purposes);
        if (!cats.length || !purps.length) {
          replace(status, notice('error', 'Choose at least one kind of data and one purpose.'));
          return;
        }
        const granteeId = kind.value === 'PRACTITIONER' ? practitioner.value : kind.value === 'ROLE' ? role.value : project.value;
        /** @type {Record<string, unknown>} */
        const input = { patientId, grantee: { kind: kind.value, id: granteeId }, categories: cats, purposes: purps };
        if (from.value) input.validFrom = new Date(`${from.value}T00:00:00`).toISOString();
        if (until.value) input.validUntil = new Date(`${until.value}T23:59:59.999`).toISOString();
        if (kind.value === 'PROJECT') input.identified = identified.checked;
        busy(submit, async () => {
          try {
            await graphqlStrict(GRANT, { input });
            reload(notice('ok', `Granted: ${cats.map(categoryLabel).join(', ')} to ${granteeText({ kind: kind.value, id: granteeId }, dir)}.`));
          } catch (err) {
            replace(status, notice('error', readable(err)));
          }
        });
      },
    },
    h('h3', { id: 'grant-title' }, 'Grant access'),
    field('Who', kind),
    fields.PRACTITIONER,
    fields.ROLE,
    fields.PROJECT,
    identifiedField,
    categories,
    purposes,
    h('div', { class: 'row' }, field('From (optional)', from, 'Today if empty.'), field('Until (optional)', until, 'No end date if empty.')),
    submit,
    status,
  );
  showKind();
  return form;
}

/**
 * @param {HTMLElement} target
 * @param {{ patientId: string, userId: string }} me
 * @param {Directory} dir
 */
async function renderAccessLog(target, me, dir) {
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Show older');
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  replace(
    target,
    h('h2', { id: 'log-title' }, 'Who accessed my data'),
    h('div', { class: 'card' },
      h('p', { class: 'hint' }, 'Every request for your data, allowed or refused, from the tamper-evident audit trail.'),
      h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Access history' },
        h('table', {}, h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Why', 'Outcome'].map((c) => h('th', { scope: 'col' }, c)))), body)),
      more,
      status,
    ),
  );
  /** @param {any} actor */
  const who = (actor) => {
    if (!actor) return 'the hub';
    if (actor.userId === me.userId) return 'You';
    const name = actor.practitionerId ? dir.practitioners.get(actor.practitionerId) : null;
    return name ?? `${actor.role ?? 'user'}${actor.institutionId ? ` at ${dir.institutions.get(actor.institutionId) ?? actor.institutionId}` : ''}`;
  };
  /** @param {string | null} after */
  const load = async (after) => {
    try {
      const { data, errors } = await graphql(ACCESS_LOG_QUERY, { id: me.patientId, after });
      const conn = data?.patient?.accessLog;
      if (!conn) throw errors?.[0] ?? new Error('no access log');
      for (const e of conn.nodes) {
        body.append(
          h('tr', {},
            h('td', {}, when(e.at)),
            h('td', {}, who(e.actor)),
            h('td', {}, e.category ? categoryLabel(e.category) : e.kind),
            h('td', {}, e.purpose ? purposeLabel(e.purpose) : '—'),
            h('td', {}, e.decision === 'DENY' ? h('span', { class: 'flag flag-high' }, 'refused') : e.decision === 'PERMIT' ? 'allowed' : e.kind),
          ),
        );
      }
      if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 5 }, 'No accesses recorded yet.')));
      more.hidden = !conn.pageInfo.hasNextPage;
      more.onclick = () => busy(more, () => load(conn.pageInfo.endCursor));
    } catch (err) {
      more.hidden = true;
      replace(status, notice('error', `The access history cannot be shown: ${readable(err)}`));
    }
  };
  await load(null);
}
