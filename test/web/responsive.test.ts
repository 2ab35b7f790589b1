/**
 * Every route of every role at a phone's width (390 px) and a desktop's (1280 px), in real
 * headless Chromium against the real hub: no page is wider than the screen (nothing
 * scrolls sideways), tables become stacked rows on the phone, and axe-core finds no
 * serious or critical issue. Screenshots of each role's main pages at both widths are
 * kept in test/web/artifacts/responsive/ (checked in; the README shows two).
 */
import fs from 'node:fs';
import path from 'node:path';
import { gql, ok } from '../support/graphql';
import { accessibilityProblems, ARTIFACTS, launchChromium, loadPage, person, type Chromium, type Person } from './browser';
import { enrol, startPortalHub, type PortalHub } from './portal-hub';

jest.setTimeout(240_000);

const SHOTS = path.join(ARTIFACTS, 'responsive');
const WIDTHS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 900 },
] as const;

let hub: PortalHub;
let chrome: Chromium;

const firstAccount = (role: string, where?: (parts: string[]) => boolean) =>
  hub
    .cli('users', '--role', role, '--limit', '50')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length >= 4 && (!where || where(parts)))[0]!;

async function api(username: string, query: string, variables?: Record<string, unknown>) {
  return gql(`${hub.gateway}/graphql`, query, variables, { authorization: `Bearer ${hub.token(username)}` });
}



/** Waits until the view has drawn what it loads: no "Loading…" left, no request in flight. */
async function settled(who: Person): Promise<void> {
  await who.page.waitForLoadState('networkidle');
  await who.page.locator('main h1, main h2').first().waitFor();
  await who.page.waitForFunction(() => !document.querySelector('main .loading, main [aria-busy="true"]'), undefined, { timeout: 30_000 });
  await who.page.waitForLoadState('networkidle');
}

interface Route {
  hash: string;
  /** A main page: screenshotted at both widths. */
  shot?: string;
}

/** What one role's person sees of every route, at both widths. */
async function visitAll(who: Person, role: string, routes: Route[]): Promise<string[]> {
  const problems: string[] = [];
  for (const size of WIDTHS) {
    await who.page.setViewportSize({ width: size.width, height: size.height });
    for (const route of routes) {
      await loadPage(who.page, `${hub.origin}/${route.hash}`);
      await settled(who);
      const where = `${role} ${route.hash} at ${size.width} px`;
      const [scrollWidth, innerWidth] = (await who.page.evaluate('[document.documentElement.scrollWidth, innerWidth]')) as [number, number];
      if (scrollWidth > innerWidth) problems.push(`${where}: ${scrollWidth} px wide`);
      for (const p of await accessibilityProblems(who)) problems.push(`${where}: ${p}`);
      if (size.width === 390) {
        // Tables are stacked rows: each cell shows its column's name.
        const unlabelled = await who.page.evaluate(`[...document.querySelectorAll('main table tbody td:not([colspan])')]
          .filter(td => td.offsetParent && !td.dataset.label).length`);
        if (unlabelled) problems.push(`${where}: ${unlabelled} table cells without data-label`);
        const display = await who.page.evaluate(`(() => { const td = document.querySelector('main table tbody td'); return td ? getComputedStyle(td).display : 'none'; })()`);
        if (display === 'table-cell') problems.push(`${where}: tables are not stacked`);
      }
      if (route.shot) await who.page.screenshot({ path: path.join(SHOTS, `${role}-${route.shot}-${size.name}.png`) });
    }
  }
  return [...problems, ...who.problems];
}

beforeAll(async () => {
  [hub, chrome] = await Promise.all([startPortalHub(), launchChromium()]);
  fs.mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  if (hub && hub.process.exitCode === null) await hub.stop();
});

test('signed out: the sign-in page', async () => {
  const who = await person(chrome, 'resp-signin');
  expect(await visitAll(who, 'signed-out', [{ hash: '#/signin', shot: 'sign-in' }])).toEqual([]);
  await who.context.close();
});

test('a patient: their record (charts of labs and device readings), consents, access history', async () => {
  // A patient with devices, so the readings charts are on the page.
  const clinician = firstAccount('clinician');
  const { patients } = ok(await api(clinician[0]!, '{ patients(first: 50) { nodes { id devices { id } labResults(first: 1) { totalCount } } } }'));
  const withDevices = patients.nodes.find((p: any) => p.devices?.length && p.labResults?.totalCount > 2) ?? patients.nodes[0];
  const who = await person(chrome, 'resp-patient');
  await enrol(hub, who, 'resp.patient', '--role', 'patient', '--patient', withDevices.id);
  expect(await visitAll(who, 'patient', [{ hash: '#/me', shot: 'my-record' }, { hash: '#/nowhere' }])).toEqual([]);
  await who.context.close();
});

test('a clinician: patients, a patient’s record, research cohorts', async () => {
  const [, , practitioner, institution] = firstAccount('clinician');
  const who = await person(chrome, 'resp-clinician');
  await enrol(hub, who, 'resp.clinician', '--role', 'clinician', '--institution', institution!, '--practitioner', practitioner!);
  const { patients } = ok(await api('resp.clinician', '{ patients(first: 50) { nodes { id devices { id } } } }'));
  const patient = patients.nodes.find((p: any) => p.devices?.length) ?? patients.nodes[0];
  expect(
    await visitAll(who, 'clinician', [
      { hash: '#/patients', shot: 'patients' },
      { hash: `#/patient/${patient.id}`, shot: 'patient-record' },
      { hash: '#/patient/pat_unknown' },
      { hash: '#/research' },
    ]),
  ).toEqual([]);
  // Not on any research project: the research page says why it has no cohorts, and its
  // chart has no axis to read "∞" (issue 15).
  const { researchProjects } = ok(await api('resp.clinician', '{ researchProjects(first: 50) { nodes { viewerIsMember } } }'));
  expect(researchProjects.nodes.some((p: any) => p.viewerIsMember)).toBe(false); // the seed's clinicians work on none
  await who.page.goto(`${hub.origin}/#/research`);
  await settled(who);
  expect(await who.page.locator('main').innerText()).toMatch(/not a member of any research project/);
  expect(await who.page.locator('main').innerHTML()).not.toMatch(/Infinity|NaN|∞/);
  await who.context.close();
});

test('a researcher: projects, cohorts, the summary chart and the distributions', async () => {
  const [, , practitioner, institution] = firstAccount('researcher');
  const who = await person(chrome, 'resp-researcher');
  await enrol(hub, who, 'resp.researcher', '--role', 'researcher', '--institution', institution!, '--practitioner', practitioner!);
  expect(await visitAll(who, 'researcher', [{ hash: '#/research', shot: 'cohorts' }])).toEqual([]);
  await who.context.close();
});

test('a compliance officer: every compliance tab', async () => {
  const [, , practitioner, institution] = firstAccount('compliance');
  const who = await person(chrome, 'resp-compliance');
  await enrol(hub, who, 'resp.compliance', '--role', 'compliance', '--institution', institution!, '--practitioner', practitioner!);
  expect(
    await visitAll(who, 'compliance', [
      { hash: '#/compliance/audit', shot: 'audit' },
      { hash: '#/compliance/disclosures' },
      { hash: '#/compliance/break-glass', shot: 'break-glass' },
      { hash: '#/compliance/ledger' },
    ]),
  ).toEqual([]);
  await who.context.close();
});

test('an admin: the ledger', async () => {
  const who = await person(chrome, 'resp-admin');
  await enrol(hub, who, 'resp.admin', '--role', 'admin');
  expect(await visitAll(who, 'admin', [{ hash: '#/compliance/ledger', shot: 'ledger' }])).toEqual([]);
  await who.context.close();
});
