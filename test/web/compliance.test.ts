/**
 * The compliance screens in people's words (issue 15), in real Chromium against the real
 * hub: a compliance officer signs in with a passkey (virtual authenticator) and sees
 * practitioners and institutions by name where ids were, each id a hover or an expansion
 * away; finds a person by name from suggestions; reads what was read under a
 * break-the-glass before reviewing it; downloads a disclosures CSV with name columns and
 * defused cells. A patient's name is DEMOGRAPHICS, which compliance may not see: it must
 * appear nowhere on these pages.
 */
import fs from 'node:fs';
import { gql, ok } from '../support/graphql';
import { accessibilityProblems, launchChromium, person, type Chromium, type Person } from './browser';
import { startPortalHub, type PortalHub } from './portal-hub';

jest.setTimeout(180_000);

let hub: PortalHub;
let chrome: Chromium;
let officer: Person;

interface Account {
  username: string;
  ref: string;
  institution: string;
}
const accounts = (role: string, limit = 50): Account[] =>
  hub
    .cli('users', '--role', role, '--limit', String(limit))
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([username, , ref, institution]) => ({ username: username!, ref: ref!, institution: institution! }));

async function api(username: string, query: string, variables?: Record<string, unknown>, purpose?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${hub.token(username)}` };
  if (purpose) headers['x-purpose-of-use'] = purpose;
  return gql(`${hub.gateway}/graphql`, query, variables, headers);
}

let patient: Account;
let patientName: string;
let treating: Account; // a clinician of the patient's hospital
let treatingName: string;
let treatingUserId: string;
let outsider: Account; // a clinician elsewhere, who breaks the glass
let outsiderName: string;
const officerUser = 'audit.names';

/** What the API says was read under a break-the-glass access. */
async function readsUnder(id: string): Promise<{ category: string }[]> {
  return ok(await api(officerUser, 'query($id: ID!) { breakGlassAccess(id: $id) { accesses { category } } }', { id }, 'OPERATIONS')).breakGlassAccess.accesses;
}


beforeAll(async () => {
  [hub, chrome] = await Promise.all([startPortalHub(), launchChromium()]);
  patient = accounts('patient', 20)[0]!;
  const clinicians = accounts('clinician');
  treating = clinicians.find((c) => c.institution === patient.institution)!;
  outsider = clinicians.find((c) => c.institution !== patient.institution)!;
  patientName = ok(await api(patient.username, 'query($p: ID!) { patient(id: $p) { name { text } } }', { p: patient.ref })).patient.name.text;
  const named = async (id: string) => ok(await api(patient.username, 'query($id: ID!) { practitioner(id: $id) { name { text } } }', { id })).practitioner.name.text;
  [treatingName, outsiderName] = [await named(treating.ref), await named(outsider.ref)];
  treatingUserId = ok(await api(treating.username, '{ me { id } }')).me.id;

  // The treating clinician reads the patient (a disclosure); the outsider breaks the glass and reads too.
  ok(await api(treating.username, 'query($p: ID!) { patient(id: $p) { birthDate labResults(first: 2) { nodes { value } } } }', { p: patient.ref }, 'TREATMENT'));
  ok(await api(outsider.username, 'mutation($p: ID!) { breakTheGlass(patientId: $p, justification: "Unconscious in our emergency room, allergies unknown") { id } }', { p: patient.ref }, 'EMERGENCY'));
  ok(await api(outsider.username, 'query($p: ID!) { patient(id: $p) { birthDate labResults(first: 2) { nodes { value } } } }', { p: patient.ref }, 'EMERGENCY'));

  const complianceOfficer = accounts('compliance', 1)[0]!;
  officer = await person(chrome, 'compliance-names');
  const code = hub.cli('invite', '--role', 'compliance', '--institution', complianceOfficer.institution, '--practitioner', complianceOfficer.ref);
  await officer.page.goto(`${hub.origin}/`);
  await officer.page.getByLabel('Enrolment code').fill(code);
  await officer.page.getByLabel('Choose a username').fill(officerUser);
  await officer.page.getByRole('button', { name: 'Create my passkey' }).click();
  await officer.page.getByRole('button', { name: 'Sign out' }).waitFor();

  // Wait until the ledger holds the reads under the break-the-glass (the relay takes a moment).
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { breakGlassReviews } = ok(await api(officerUser, '{ breakGlassReviews { id patientId openedBy { practitionerId } } }', undefined, 'OPERATIONS'));
    const mine = breakGlassReviews.find((r: any) => r.patientId === patient.ref);
    if (mine?.openedBy.practitionerId && (await readsUnder(mine.id)).length) break;
    if (Date.now() > deadline) throw new Error('the break-the-glass reads never reached the ledger');
    await new Promise((r) => setTimeout(r, 500));
  }
}, 240_000);

afterAll(async () => {
  await officer?.context.close();
  await chrome?.close();
  if (hub && hub.process.exitCode === null) await hub.stop();
});

describe('the compliance screens in names', () => {
  test('the audit trail shows practitioners and institutions by name, ids on hover and expansion; never a patient’s name', async () => {
    const page = officer.page;
    await page.goto(`${hub.origin}/#/compliance/audit`);
    await page.getByLabel('Patient id').fill(patient.ref);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator('main table tbody tr').filter({ hasText: treatingName }).first();
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Clinician at /);
    // The id is on hover…
    const name = row.locator('.person', { hasText: treatingName });
    expect(await name.getAttribute('title')).toContain(`User ${treatingUserId}`);
    expect(await name.getAttribute('title')).toContain(`Practitioner ${treating.ref}`);
    // …and one expansion away, by keyboard too.
    const ids = row.locator('details.ids').last();
    expect(await ids.locator('dd').first().isVisible()).toBe(false);
    await ids.locator('summary').focus();
    await page.keyboard.press('Enter');
    expect(await ids.innerText()).toContain(treatingUserId);
    expect(await ids.innerText()).toContain(treating.institution);
    // The patient stays an id: compliance's base policy opens AUDIT, not DEMOGRAPHICS.
    expect(await page.locator('main').innerText()).toContain(patient.ref);
    expect(await page.content()).not.toContain(patientName);
    expect(await accessibilityProblems(officer)).toEqual([]);
    await officer.shot('compliance-audit-names');
  });

  test('a person is found by name from suggestions (a keyboard-usable combobox), and by a pasted id', async () => {
    const page = officer.page;
    await page.goto(`${hub.origin}/#/compliance/audit`);
    const box = page.getByRole('combobox', { name: /^Person/ });
    const typed = treatingName.split(' ').at(-1)!.slice(0, 4);
    await box.pressSequentially(typed, { delay: 30 });
    await page.waitForFunction((name) => [...document.querySelectorAll('#person-suggestions option')].some((o) => (o as HTMLOptionElement).value.startsWith(`${name} — `)), treatingName);
    const suggestion = await page.evaluate((name) => [...document.querySelectorAll('#person-suggestions option')].map((o) => (o as HTMLOptionElement).value).find((v) => v.startsWith(`${name} — `))!, treatingName);
    // No patient is ever suggested: the suggestions are the staff directory only.
    const suggested = await page.evaluate(() => [...document.querySelectorAll('#person-suggestions option')].map((o) => (o as HTMLOptionElement).value).join('\n'));
    expect(suggested).not.toContain(patientName);
    await box.fill(suggestion);
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('main table tbody tr');
    await rows.first().locator('.person').first().waitFor();
    const texts = await rows.allInnerTexts();
    expect(texts.length).toBeGreaterThan(0);
    for (const text of texts) expect(text).toContain(treatingName);
    // A pasted user id finds the same person.
    await box.fill(treatingUserId);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('main table tbody tr').length === n, texts.length);
    for (const text of await rows.allInnerTexts()) expect(text).toContain(treatingName);
    expect(await accessibilityProblems(officer)).toEqual([]);
  });

  test('the break-the-glass review names who opened it and lists what was read before the decision', async () => {
    const page = officer.page;
    await page.goto(`${hub.origin}/#/compliance/break-glass`);
    const item = page.locator('li[data-review-id]').filter({ hasText: patient.ref });
    await item.waitFor();
    expect(await item.innerText()).toContain(outsiderName);
    const reads = item.locator('section.reads:not([aria-busy])');
    await reads.locator('h3', { hasText: /^What was read: \d+ access/ }).waitFor();
    const accesses = await readsUnder((await item.getAttribute('data-review-id'))!);
    expect(await reads.locator('tbody tr').count()).toBe(accesses.length);
    expect(await reads.locator('tbody').innerText()).toMatch(/Lab results/i);
    // The list comes before the form that records the decision.
    const order = await item.evaluate((li) => [...li.children].map((c) => c.tagName.toLowerCase() + (c.className ? `.${c.className}` : '')));
    expect(order.indexOf('section.reads')).toBeLessThan(order.indexOf('form'));
    expect(await page.content()).not.toContain(patientName);
    expect(await accessibilityProblems(officer)).toEqual([]);
    await officer.shot('compliance-break-glass-reads');
  });

  test('disclosures by name; the CSV has name columns beside the ids and defuses formula cells', async () => {
    const page = officer.page;
    await page.goto(`${hub.origin}/#/compliance/disclosures`);
    await page.getByLabel('Patient id').fill(patient.ref);
    await page.getByRole('button', { name: 'Show disclosures' }).click();
    const csvLink = page.getByRole('link', { name: 'Download CSV' });
    await csvLink.waitFor();
    expect(await page.locator('main table tbody').innerText()).toContain(treatingName);
    const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    const [header, ...lines] = csv.trimEnd().split('\r\n');
    expect(header!.split(',')).toEqual(expect.arrayContaining(['recipient_user_id', 'recipient_name', 'institution_id', 'institution_name', 'practitioner_id', 'practitioner_name']));
    const cols = header!.split(',');
    const line = lines.map((l) => l.split(',')).find((c) => c[cols.indexOf('recipient_user_id')] === treatingUserId)!;
    expect(line[cols.indexOf('recipient_name')]).toBe(treatingName);
    expect(line[cols.indexOf('practitioner_id')]).toBe(treating.ref);
    expect(csv).not.toContain(patientName);
    // The same module, given names a spreadsheet would run: every such cell starts with '.
    // (A string: the test's own compiler would turn import() into require().)
    const hostile = await page.evaluate(`import('/app/js/views/disclosures-csv.js').then(({ disclosuresCsv }) => disclosuresCsv([{
      recipient: { userId: 'usr_1', role: 'clinician', institutionId: '@inst', practitionerId: 'prac_1',
        practitioner: { name: { text: '=HYPERLINK("http://x","y")' } }, institution: { name: '+Evil, Inc' } },
      category: 'LABS', purpose: 'TREATMENT', service: '-labs', accesses: 1, firstAt: '\\tx', lastAt: '\\rx' }]))`);
    const row = (hostile as string).split('\r\n')[1]!;
    expect(row).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(row).toContain(`"'+Evil, Inc"`);
    expect(row).toContain(",'@inst,");
    expect(row).toContain(",'-labs,");
    expect(row).toContain(",'\tx,");
    expect(row).toContain(`"'\rx"`);
    expect(row).not.toMatch(/(^|,)[=+\-@\t\r]/);
    expect(await accessibilityProblems(officer)).toEqual([]);
    await officer.shot('compliance-disclosures-names');
    expect(officer.problems).toEqual([]);
  });
});
