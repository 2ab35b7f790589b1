// @ts-check
/**
 * The portal's entry point: who is signed in, which views their role has, and the
 * #/ routes between them.
 *
 *   #/signin                     sign in, or enrol with a code
 *   #/me                         a patient's own record, consents and access history
 *   #/patients, #/patient/<id>   clinicians (and anyone's view of one record)
 *   #/research                   projects, cohorts and the cohort summary chart
 *   #/compliance/<tab>[/…]       audit trail, disclosures, break-glass queue, ledger
 */
import { graphqlStrict, readable, session, signOut, whenSignedOut } from './api.js';
import { byId, h, labelCellsAlways, notice, replace } from './dom.js';
import { renderPatientList, renderPatientPage } from './views/clinician.js';
import { COMPLIANCE_TABS, renderCompliance } from './views/compliance.js';
import { renderPatientHome } from './views/patient.js';
import { renderResearch } from './views/research.js';
import { renderSignIn } from './views/signin.js';

/** @typedef {{ id: string, username: string, role: string, patientId: string | null }} Me */

/** @type {Me | null} */
let me = null;

/** @type {Record<string, Array<[string, string]>>} */
const NAV = {
  PATIENT: [['#/me', 'My record']],
  CLINICIAN: [['#/patients', 'Patients'], ['#/research', 'Research cohorts']],
  RESEARCHER: [['#/research', 'Research cohorts']],
  COMPLIANCE: COMPLIANCE_TABS.map(([id, label]) => [`#/compliance/${id}`, label]),
  ADMIN: [['#/compliance/ledger', 'Ledger']],
};

/** @param {string} role */
const home = (role) => NAV[role]?.[0]?.[0] ?? '#/signin';

async function loadMe() {
  const data = await graphqlStrict('query Me { me { id username role patient { id } } }');
  me = { id: data.me.id, username: data.me.username, role: data.me.role, patientId: data.me.patient?.id ?? null };
}

function renderChrome() {
  const nav = byId('nav');
  const who = byId('who');
  if (!me) {
    replace(nav);
    replace(who);
    return;
  }
  const current = location.hash;
  replace(nav, h('ul', {}, (NAV[me.role] ?? []).map(([href, label]) =>
    h('li', {}, h('a', { href, 'aria-current': current.startsWith(href) ? 'page' : false }, label)))));
  const out = h('button', { type: 'button', class: 'link' }, 'Sign out');
  out.addEventListener('click', async () => {
    await signOut();
    me = null;
    location.hash = '#/signin';
    route();
  });
  replace(who, h('span', {}, `${me.username} · ${me.role.toLowerCase()}`), ' ', out);
}

let routing = 0;
async function route() {
  const turn = ++routing;
  const main = byId('main');
  const hash = location.hash || '#/';
  if (!hash.startsWith('#/')) return; // an in-page anchor, not a view
  const [view, ...args] = hash.slice(2).split('/');
  if (!session.get()) {
    me = null;
    renderChrome();
    renderSignIn(main, () => {
      location.hash = '#/';
      route();
    });
    document.title = 'Sign in — Custodian';
    return;
  }
  if (!me) {
    try {
      await loadMe();
    } catch (err) {
      replace(main, notice('error', readable(err)));
      return;
    }
  }
  if (turn !== routing || !me) return;
  if (view === '' || view === 'signin') {
    location.replace(home(me.role));
    return;
  }
  renderChrome();
  const titles = /** @type {Record<string, string>} */ ({ me: 'My record', patients: 'Patients', patient: 'Patient record', research: 'Research cohorts', compliance: 'Compliance' });
  document.title = `${titles[view ?? ''] ?? 'Custodian'} — Custodian`;
  main.focus({ preventScroll: true });
  if (view === 'me' && me.patientId) return renderPatientHome(main, { patientId: me.patientId, userId: me.id });
  if (view === 'patients') return renderPatientList(main);
  if (view === 'patient' && args[0]) return renderPatientPage(main, decodeURIComponent(args[0]), me);
  if (view === 'research') return renderResearch(main);
  if (view === 'compliance') return renderCompliance(main, args[0] ?? 'audit', args.slice(1));
  replace(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: home(me.role) }, 'Go to your start page')));
}

whenSignedOut(() => {
  me = null;
  if (location.hash !== '#/signin') location.hash = '#/signin';
});
byId('skip').addEventListener('click', (e) => {
  e.preventDefault();
  byId('main').focus();
});
labelCellsAlways(byId('main'));
window.addEventListener('hashchange', route);
route();
