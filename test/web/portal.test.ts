/**
 * The web portal in real headless Chromium against the real hub (every process, a real
 * database), with passkeys from a virtual authenticator (DevTools protocol). People enrol
 * with codes from `custodian invite` and then use the pages as they would; the server
 * decides everything, and the tests check what the page shows against what the API
 * says. Screenshots go to test/web/artifacts/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gql, ok } from '../support/graphql';
import { encodeLeaf, readLeaf } from '../../ledger/core/leaf';
import { loadConsistencyVectors, loadInclusionVectors, loadReferenceTree } from '../support/ledger';
import { FORMAT_1_LEAVES } from '../support/ledger-leaves';
import { accessibilityProblems, launchChromium, loadPage, person, type Chromium, type Person } from './browser';
import { enrol, startPortalHub, type PortalHub } from './portal-hub';

jest.setTimeout(120_000);

let hub: PortalHub;
let chrome: Chromium;

/** A seeded account: username, role, practitioner or patient id, institution id. */
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

let patient: Account; // enrols as `patientUser`
let otherPatient: Account;
let outsider: Account; // a clinician of another hospital; enrols as `clinicianUser`
let researcher: Account;
let complianceOfficer: Account;
const patientUser = 'pat.portal';
const clinicianUser = 'doc.portal';
const researcherUser = 'res.portal';
const complianceUser = 'audit.portal';
let patientName: string;
let otherPatientName: string;
let outsiderName: string;

/** The API's answer for a user, with an API token minted by the operator CLI. */
async function api(username: string, query: string, variables?: Record<string, unknown>, purpose?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${hub.token(username)}` };
  if (purpose) headers['x-purpose-of-use'] = purpose;
  return gql(`${hub.gateway}/graphql`, query, variables, headers);
}

beforeAll(async () => {
  [hub, chrome] = await Promise.all([startPortalHub(), launchChromium()]);
  const patients = accounts('patient', 40);
  patient = patients[0]!;
  otherPatient = patients.find((p) => p.institution !== patient.institution)!;
  outsider = accounts('clinician').find((c) => c.institution !== patient.institution && c.institution !== otherPatient.institution)!;
  researcher = accounts('researcher', 1)[0]!;
  complianceOfficer = accounts('compliance', 1)[0]!;
  patientName = ok(await api(patient.username, 'query($p: ID!) { patient(id: $p) { name { text } } }', { p: patient.ref })).patient.name.text;
  otherPatientName = ok(await api(otherPatient.username, 'query($p: ID!) { patient(id: $p) { name { text } } }', { p: otherPatient.ref })).patient.name.text;
  const { institutions } = ok(await api(patient.username, '{ institutions { practitioners { id name { text } } } }'));
  outsiderName = institutions.flatMap((i: any) => i.practitioners).find((p: any) => p.id === outsider.ref).name.text;
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  if (hub && hub.process.exitCode === null) await hub.stop();
});



const visibleText = (who: Person) => who.page.locator('main').innerText();

describe('what the gateway serves for the portal', () => {
  test('the page, its modules and @simplewebauthn/browser, with a strict Content-Security-Policy; a missing file is a plain 404', async () => {
    const page = await fetch(`${hub.gateway}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('/app/js/main.js');
    const vendor = await fetch(`${hub.gateway}/app/vendor/simplewebauthn/index.js`);
    expect([vendor.status, vendor.headers.get('content-type')]).toEqual([200, expect.stringMatching(/javascript/)]);
    expect(await vendor.text()).toContain('startRegistration');
    const missing = await fetch(`${hub.gateway}/app/js/nope.js`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toMatch(/at \w+ \(|node_modules|Error/);
  });

  test('GET /ledger/checkpoints: newest first with before, oldest first with since, every note signed; bad parameters are 400', async () => {
    // Some traffic, so there are a few checkpoints.
    for (let i = 0; i < 3; i++) {
      await api(patient.username, 'query($p: ID!) { patient(id: $p) { name { text } } }', { p: patient.ref });
      await new Promise((r) => setTimeout(r, 1200));
    }
    // The ledger may still be publishing (the requests' events): read the list between two
    // identical reads of the latest checkpoint, so that no checkpoint came in between.
    const checkpointNow = async () => (await fetch(`${hub.gateway}/ledger/checkpoint`)).text();
    let latest = '';
    let newest: any;
    for (let attempt = 0; attempt < 20; attempt++) {
      latest = await checkpointNow();
      newest = await (await fetch(`${hub.gateway}/ledger/checkpoints?limit=2`)).json();
      if ((await checkpointNow()) === latest) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(newest.checkpoints).toHaveLength(2);
    expect(newest.checkpoints[0].note).toBe(latest);
    expect(newest.checkpoints[0].size).toBeGreaterThan(newest.checkpoints[1].size);
    expect(newest.next).toEqual({ before: newest.checkpoints[1].size });
    const older: any = await (await fetch(`${hub.gateway}/ledger/checkpoints?limit=2&before=${newest.next.before}`)).json();
    expect(older.checkpoints[0].size).toBeLessThan(newest.checkpoints[1].size);
    const all: any = await (await fetch(`${hub.gateway}/ledger/checkpoints?since=0&limit=100`)).json();
    const sizes = all.checkpoints.map((c: any) => c.size);
    expect(sizes).toEqual([...sizes].sort((a: number, b: number) => a - b));
    expect(sizes).toEqual(expect.arrayContaining([newest.checkpoints[1].size, older.checkpoints[0].size]));
    for (const c of all.checkpoints) {
      expect(c.note.split('\n').slice(0, 3)).toEqual([expect.any(String), String(c.size), c.root]);
      expect(Number.isNaN(Date.parse(c.publishedAt))).toBe(false);
    }
    for (const q of ['limit=0', 'limit=101', 'limit=x', 'before=-1', 'since=1&before=2', 'since=1e3']) {
      const res = await fetch(`${hub.gateway}/ledger/checkpoints?${q}`);
      expect([q, res.status]).toEqual([q, 400]);
    }
  });
});

describe('the web portal, in Chromium', () => {
  let pat: Person;
  let doc: Person;

  test('a patient enrols with a code and a passkey, sees their own data by category, signs out and back in', async () => {
    pat = await person(chrome, 'patient');
    await pat.page.goto(`${hub.origin}/`);
    await pat.page.getByRole('heading', { name: 'Welcome to Custodian' }).waitFor();
    expect(await accessibilityProblems(pat)).toEqual([]);
    await pat.shot('sign-in');

    // A wrong code is refused with a readable sentence, and nothing is registered.
    await pat.page.getByLabel('Enrolment code').fill('not-a-code');
    await pat.page.getByLabel('Choose a username').fill(patientUser);
    await pat.page.getByRole('button', { name: 'Create my passkey' }).click();
    const refusal = pat.page.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/code/i);
    expect(await refusal.innerText()).not.toMatch(/\bat \w+ \(|node_modules|stack/i);
    expect(await pat.credentials()).toHaveLength(0);

    await enrol(hub, pat, patientUser, '--role', 'patient', '--patient', patient.ref);
    expect(await pat.credentials()).toHaveLength(1);
    expect(pat.page.url()).toMatch(/#\/me$/);
    const demographics = pat.page.locator('section[data-category="DEMOGRAPHICS"]');
    await demographics.getByText(patientName).waitFor();
    // Every category has its section, with data or an explicit state.
    for (const category of ['LABS', 'DEVICES', 'RESEARCH']) await pat.page.locator(`section[data-category="${category}"]`).waitFor();
    const labs = ok(await api(patientUser, 'query($p: ID!) { patient(id: $p) { labResults(first: 20) { totalCount } } }', { p: patient.ref })).patient.labResults.totalCount;
    expect(await pat.page.locator('section[data-category="LABS"] tbody tr').count()).toBe(Math.min(100, labs));
    // One trend chart per LOINC code, each a focusable figure with its table.
    const charts = pat.page.locator('section[data-category="LABS"] figure.chart-series');
    expect(await charts.count()).toBeGreaterThan(0);
    expect(await charts.first().getAttribute('tabindex')).toBe('0');
    expect(await charts.first().locator('svg').getAttribute('aria-label')).toMatch(/LOINC .*\d+ values? from/);
    await pat.page.getByRole('heading', { name: 'My consents' }).waitFor();
    await pat.shot('my-record');

    // Sign out; sign in again with the keyboard only.
    await pat.page.getByRole('button', { name: 'Sign out' }).click();
    await pat.page.getByRole('heading', { name: 'Welcome to Custodian' }).waitFor();
    expect(await pat.page.evaluate("document.activeElement && document.activeElement.getAttribute('name')")).toBe('username');
    await pat.page.keyboard.type(patientUser);
    await pat.page.keyboard.press('Enter');
    await demographics.getByText(patientName).waitFor();
    expect(pat.problems).toEqual([]);
  });

  test('a patient cannot open another patient’s record: the server refuses, and the page says hidden', async () => {
    await pat.page.goto(`${hub.origin}/#/patient/${otherPatient.ref}`);
    const hidden = pat.page.locator('.record-hidden[data-state="forbidden"]');
    await hidden.waitFor();
    expect(await hidden.innerText()).toMatch(/hidden/i);
    expect(await visibleText(pat)).not.toContain(otherPatientName);
    await pat.shot('other-patient-forbidden');
    // The server's own answer for this patient's session is the same refusal.
    const res = await api(patientUser, 'query($p: ID!) { patient(id: $p) { name { text } } }', { p: otherPatient.ref });
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test('a consent granted in two steps lets a clinician of another hospital see exactly that; revoking in two clicks ends it at once', async () => {
    doc = await person(chrome, 'clinician');
    await enrol(hub, doc, clinicianUser, '--role', 'clinician', '--institution', outsider.institution, '--practitioner', outsider.ref);
    const record = `${hub.origin}/#/patient/${patient.ref}`;
    await doc.page.goto(record);
    await doc.page.locator('.record-hidden[data-state="forbidden"]').waitFor();
    expect(await visibleText(doc)).not.toContain(patientName);
    await doc.page.getByRole('button', { name: /Why is personal details hidden/ }).click();
    // Nothing of this patient is open to them, so the server does not explain (it would
    // tell a hidden patient from an unknown id): the answer is the same as for any id.
    await doc.page.getByText(/No consent covers any data of this patient for TREATMENT/).first().waitFor();
    await doc.shot('before-consent');

    // The patient grants personal details and lab results, for treatment, to that clinician.
    await pat.page.goto(`${hub.origin}/#/me`);
    await pat.page.getByRole('heading', { name: 'Grant access' }).waitFor();
    await pat.page.getByLabel('Who', { exact: true }).selectOption('PRACTITIONER');
    await pat.page.getByLabel('Person', { exact: true }).selectOption(outsider.ref);
    await pat.page.getByRole('checkbox', { name: 'Personal details' }).check();
    await pat.page.getByRole('checkbox', { name: 'Lab results' }).check();
    await pat.page.getByRole('checkbox', { name: 'Treatment' }).check();
    await pat.page.getByRole('button', { name: 'Grant access' }).click();
    await pat.page.getByText(/^Granted: /).waitFor();
    const item = pat.page.locator('li.consent.active');
    expect(await item.count()).toBe(1);
    expect(await item.innerText()).toMatch(/Personal details, Lab results — to .* for treatment/);
    await pat.shot('consent-granted');

    // The clinician now sees the name and the labs; devices were not granted: marked hidden.
    await loadPage(doc.page, record);
    await doc.page.locator('section[data-category="DEMOGRAPHICS"]').getByText(patientName).waitFor();
    expect(await doc.page.locator('section[data-category="LABS"] tbody tr').count()).toBeGreaterThan(0);
    const devices = doc.page.locator('section[data-category="DEVICES"] .hidden-data');
    await devices.waitFor();
    expect(await devices.innerText()).toMatch(/Devices and readings hidden/);
    await doc.shot('with-consent');

    // Revoke: two clicks.
    await pat.page.getByRole('button', { name: /^Revoke:/ }).click();
    await pat.page.getByRole('button', { name: 'Yes, revoke now' }).click();
    await pat.page.getByText(/^Revoked\./).waitFor();
    expect(await pat.page.locator('li.consent.active').count()).toBe(0);
    await pat.shot('consent-revoked');

    await loadPage(doc.page, record);
    await doc.page.locator('.record-hidden[data-state="forbidden"]').waitFor();
    expect(await visibleText(doc)).not.toContain(patientName);
    await doc.shot('after-revocation');
    expect([...pat.problems, ...doc.problems]).toEqual([]);
  });

  test('the patient sees who accessed their data, when and why — the refusals too', async () => {
    const section = pat.page.locator('section.access-log');
    const deadline = Date.now() + 30_000;
    // The audit trail comes from the ledger, which the worker fills within seconds.
    for (;;) {
      await loadPage(pat.page, `${hub.origin}/#/me`);
      await section.locator('tbody tr').first().waitFor();
      const text = await section.innerText();
      if ((/allowed/.test(text) && /refused/i.test(text) && text.includes(outsiderName)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await pat.shot('access-history');
    const rows = await section.locator('tbody tr').allInnerTexts();
    const byOutsider = rows.filter((r) => r.includes(outsiderName));
    expect(byOutsider).toEqual(expect.arrayContaining([expect.stringMatching(/Personal details\s+Treatment\s+allowed/), expect.stringMatching(/Refused/i)]));
  });

  test('a clinician breaks the glass for a patient outside their consents; compliance reviews it', async () => {
    await doc.page.goto(`${hub.origin}/#/patient/${otherPatient.ref}`);
    await doc.page.locator('.record-hidden[data-state="forbidden"]').waitFor();
    await doc.page.getByText('Emergency? Break the glass').click();
    await doc.page.getByLabel('Justification').fill('Unconscious in our emergency room, allergy history needed');
    await doc.page.getByRole('button', { name: 'Break the glass' }).click();
    await doc.page.getByText(/Emergency access|justification|glass/i).last().waitFor();
    await doc.shot('break-glass');
    await doc.page.getByText(/Emergency access \(break the glass\) until/).waitFor();
    await doc.page.locator('section[data-category="DEMOGRAPHICS"]').getByText(otherPatientName).waitFor();
  });

  test('researchers see their cohorts with hidden identities marked, and a cohort summary chart for a lab code', async () => {
    const res = await person(chrome, 'researcher');
    await enrol(hub, res, researcherUser, '--role', 'researcher', '--institution', researcher.institution, '--practitioner', researcher.ref);
    expect(res.page.url()).toMatch(/#\/research$/);
    await res.page.getByLabel('Lab test').selectOption('2160-0');
    await res.page.getByRole('button', { name: 'Show chart' }).click();
    const chart = res.page.locator('svg.chart-cohorts');
    await chart.waitFor();
    expect(await chart.getAttribute('aria-label')).toMatch(/Creatinine .* by cohort\./);
    // The numbers on the page are the API's, for this researcher: cohorts of the projects
    // they work on only, small cells shown as withheld.
    const { researchProjects } = ok(await api(researcherUser, '{ researchProjects(first: 50) { nodes { id title viewerIsMember } } }'));
    const mine = researchProjects.nodes.filter((p: any) => p.viewerIsMember);
    expect(mine.length).toBeGreaterThan(0);
    for (const project of mine) {
      const summary = ok(
        await api(researcherUser, 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "2160-0") { count suppressed } }', { p: project.id }),
      ).cohortSummary;
      const row = res.page.locator('table.cohort-table tbody tr').filter({ has: res.page.getByRole('rowheader', { name: project.title, exact: true }) });
      const cell = await row.locator('td').first().innerText();
      if (summary.suppressed) expect(cell).toMatch(/COHORT_MIN_SIZE/);
      else expect(cell).toBe(String(summary.count));
    }
    for (const project of researchProjects.nodes.filter((p: any) => !p.viewerIsMember)) {
      expect(await res.page.locator('table.cohort-table').getByRole('rowheader', { name: project.title, exact: true }).count()).toBe(0);
    }
    await res.shot('cohorts');
    // Pseudonymised members are marked, not left out.
    await res.page.getByText('Identity hidden').first().waitFor();
    expect(await accessibilityProblems(res)).toEqual([]);
    expect(res.problems).toEqual([]);
    await res.context.close();
  });

  test('compliance: audit trail search, disclosures as CSV, the break-glass queue, and a ledger proof verified in the browser — a forged one refused', async () => {
    const officer = await person(chrome, 'compliance');
    await enrol(hub, officer, complianceUser, '--role', 'compliance', '--institution', complianceOfficer.institution, '--practitioner', complianceOfficer.ref);
    const page = officer.page;

    // Audit trail: the patient's consent grant, found with filters.
    await page.goto(`${hub.origin}/#/compliance/audit`);
    await page.getByLabel('Patient id').fill(patient.ref);
    await page.getByLabel('Event kind').fill('consent.granted');
    const verifyLink = page.getByRole('link', { name: /^Verify ledger entry \d+$/ });
    const deadline = Date.now() + 30_000;
    do {
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('main table tbody tr').first().waitFor();
      if ((await verifyLink.count()) > 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    } while (Date.now() < deadline);
    expect(await verifyLink.count()).toBe(1);
    expect(await page.locator('main table tbody').innerText()).toContain('consent.granted');
    await officer.shot('audit-trail');

    // Its ledger entry, verified in the browser: hash, inclusion proof, signed checkpoint.
    await verifyLink.click();
    const verified = page.locator('.notice.verified');
    await verified.waitFor();
    expect(await verified.innerText()).toMatch(/^Verified: entry \d+ is in the signed ledger of \d+ entries\.$/);
    expect(await page.locator('.verify-report .steps li').count()).toBe(4);
    expect(await page.locator('.verify-report').innerText()).toContain('records audit event');
    expect(await accessibilityProblems(officer)).toEqual([]);
    await officer.shot('ledger-verified');
    // The history: every checkpoint's signature and consistency checked here.
    await page.locator('section[aria-labelledby="history-title"] tbody tr').first().waitFor();
    const history = await page.locator('section[aria-labelledby="history-title"] tbody').innerText();
    expect(history).toMatch(/✓ signed/);
    expect(history).not.toMatch(/✗/);

    // The browser does the checking: a proof the server alters is caught…
    const index = await page.getByLabel('Entry index').inputValue();
    await page.route('**/ledger/proof/inclusion**', async (route) => {
      const proof = await (await route.fetch()).json();
      proof.hashes[0] = Buffer.alloc(32, 7).toString('base64');
      await route.fulfill({ json: proof });
    });
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('.notice.failed').waitFor();
    expect(await page.locator('.notice.failed').innerText()).toMatch(/Verification FAILED: the inclusion proof leads to root .*, not the signed root/);
    await officer.shot('ledger-forged-proof');
    await page.unroute('**/ledger/proof/inclusion**');
    // …and so is a checkpoint whose signed text was changed (a different root).
    await page.route('**/ledger/checkpoint', async (route) => {
      const note = await (await route.fetch()).text();
      const lines = note.split('\n');
      lines[2] = Buffer.alloc(32, 9).toString('base64');
      await route.fulfill({ body: lines.join('\n'), contentType: 'text/plain' });
    });
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('.notice.failed').getByText(/does not verify/).waitFor();
    await page.unroute('**/ledger/checkpoint');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await verified.waitFor();
    expect(await page.getByLabel('Entry index').inputValue()).toBe(index);

    // Accounting of disclosures for the patient: the outsider clinician is a recipient; CSV export.
    await page.goto(`${hub.origin}/#/compliance/disclosures`);
    await page.getByLabel('Patient id').fill(patient.ref);
    await page.getByRole('button', { name: 'Show disclosures' }).click();
    const csvLink = page.getByRole('link', { name: 'Download CSV' });
    await csvLink.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    const doctorId = ok(await api(clinicianUser, '{ me { id } }')).me.id;
    expect(csv.split('\n')[0]).toMatch(/,/);
    expect(csv).toContain(doctorId);
    // The recipient by name; the user id behind it (hover, and views/people.js's <details>).
    expect(await page.locator('main table tbody').innerText()).toContain(outsiderName);
    expect(await page.locator(`main table tbody [data-user-id="${doctorId}"]`).count()).toBeGreaterThan(0);
    await download.saveAs(path.join(path.dirname(await officer.shot('disclosures')), 'disclosures.csv'));

    // The break-glass review queue: the clinician's emergency access, reviewed here.
    await page.goto(`${hub.origin}/#/compliance/break-glass`);
    const pending = page.locator('li[data-review-id]').filter({ hasText: otherPatient.ref });
    await pending.waitFor();
    expect(await pending.innerText()).toContain('Unconscious in our emergency room');
    await pending.getByLabel('Review note').fill('Checked with the ER log: justified.');
    await pending.getByRole('button', { name: 'Record review' }).click();
    await page.getByText('Nothing waits for review.').waitFor();
    const reviews = ok(await api(complianceUser, '{ breakGlassReviews(pendingOnly: false) { patientId reviewNote } }', undefined, 'OPERATIONS'));
    expect(reviews.breakGlassReviews).toEqual(expect.arrayContaining([{ patientId: otherPatient.ref, reviewNote: 'Checked with the ER log: justified.' }]));
    await officer.shot('break-glass-reviewed');
    expect(officer.problems).toEqual([]);
    await officer.context.close();
  });

  test('the browser’s verifier agrees with all 196 transparency-dev proof vectors and the C2SP signed-note example', async () => {
    const page = pat.page;
    await page.goto(`${hub.origin}/#/me`);
    const cases = { inclusion: loadInclusionVectors(), consistency: loadConsistencyVectors(), note: loadReferenceTree().signedNoteExample };
    const outcome = (await page.evaluate(
      `(async (cases) => {
        const l = await import('/app/js/ledger.js');
        const b = (s) => l.fromBase64(s);
        const attempt = async (fn) => { try { await fn(); return 'ok'; } catch (e) { return e instanceof l.VerifyError ? 'refused' : 'crashed: ' + e; } };
        const inclusion = [];
        for (const c of cases.inclusion) {
          inclusion.push(await attempt(async () => {
            const root = await l.rootFromInclusionProof(c.leafIdx, c.treeSize, b(c.leafHash), (c.proof || []).map(b));
            if (!l.equalBytes(root, b(c.root))) throw new l.VerifyError('root mismatch');
          }));
        }
        const consistency = [];
        for (const c of cases.consistency) {
          consistency.push(await attempt(() => l.verifyConsistency(c.size1, c.size2, b(c.root1), b(c.root2), (c.proof || []).map(b))));
        }
        const key = await l.parseVerifierKey(cases.note.vkey);
        const note = cases.note.noteText + '\\n' + cases.note.signatureLine + '\\n';
        const opened = await l.openNote(note, key);
        const forged = await attempt(() => l.openNote(note.replace('example', 'exemplary'), key));
        return { inclusion, consistency, opened, keyId: l.toHex(key.keyId), forged };
      })(${JSON.stringify(cases)})`,
    )) as { inclusion: string[]; consistency: string[]; opened: string; keyId: string; forged: string };
    expect(outcome.inclusion).toEqual(cases.inclusion.map((c) => (c.wantErr ? 'refused' : 'ok')));
    expect(outcome.consistency).toEqual(cases.consistency.map((c) => (c.wantErr ? 'refused' : 'ok')));
    expect(outcome.opened).toBe(cases.note.noteText);
    expect(outcome.keyId).toBe(cases.note.keyIdHex);
    expect(outcome.forged).toBe('refused');
  });

  test('the browser reads ledger leaves of both formats as the server does: format 1 from before the version field, format 2', async () => {
    const page = pat.page;
    await page.goto(`${hub.origin}/#/me`);
    const format2 = encodeLeaf(readLeaf(Buffer.from(FORMAT_1_LEAVES[0]!.leafData, 'base64')).event).data.toString('base64');
    const leaves = [...FORMAT_1_LEAVES.map((l) => l.leafData), format2];
    const read = (await page.evaluate(
      `(async (leaves) => {
        const l = await import('/app/js/ledger.js');
        const newer = new TextEncoder().encode('{"at":"2026-12-02T10:00:00Z","id":"evt_x","kind":"k","v":3}');
        let refused = '';
        try { l.readLeaf(newer); } catch (e) { refused = e instanceof l.VerifyError ? 'refused' : 'crashed: ' + e; }
        return { leaves: leaves.map((b) => { const r = l.readLeaf(l.fromBase64(b)); return { format: r.format, event: r.event }; }), refused };
      })(${JSON.stringify(leaves)})`,
    )) as { leaves: { format: number; event: unknown }[]; refused: string };
    expect(read.leaves).toEqual(leaves.map((b) => readLeaf(Buffer.from(b, 'base64'))));
    expect(read.leaves.map((r) => r.format)).toEqual([...FORMAT_1_LEAVES.map(() => 1), 2]);
    expect(read.refused).toBe('refused');
  });

  test('on a phone-sized screen the pages fit the width and pass the accessibility check', async () => {
    const phone = await person(chrome, 'phone', { width: 390, height: 844 });
    await phone.page.goto(`${hub.origin}/`);
    await phone.page.getByLabel('Username', { exact: true }).fill(patientUser);
    // The same person on another device has no passkey there: a readable refusal.
    await phone.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await phone.page.getByRole('alert').waitFor();
    expect(await phone.page.getByRole('alert').innerText()).toMatch(/passkey/i);
    await phone.context.close();

    // The patient's own browser, narrowed to a phone.
    await pat.page.setViewportSize({ width: 390, height: 844 });
    await pat.page.goto(`${hub.origin}/#/me`);
    await pat.page.locator('section.access-log tbody tr').first().waitFor();
    expect(await pat.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(await accessibilityProblems(pat)).toEqual([]);
    await pat.shot('phone');
    await doc.page.setViewportSize({ width: 390, height: 844 });
    await doc.page.goto(`${hub.origin}/#/patients`);
    await doc.page.locator('main table tbody tr').first().waitFor();
    expect(await doc.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(await accessibilityProblems(doc)).toEqual([]);
    await doc.shot('phone-patients');
  });
});
