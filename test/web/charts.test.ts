/**
 * The portal's charts in real headless Chromium against the real hub: what each draws is
 * the API's numbers (lab trends, device readings gathered page by page, cohort
 * histograms with withheld buckets shown as withheld), each is a focusable figure with a
 * table of the same numbers, and no data — none, one value, all equal, all withheld —
 * ever puts Infinity or NaN on an axis.
 */
import fs from 'node:fs';
import { deviceKeyFromSeed, signBatch } from '../../common/device-signature';
import { deviceKeysPath } from '../../seed/write';
import { gql, ok } from '../support/graphql';
import { launchChromium, loadPage, person, type Chromium, type Person } from './browser';
import { enrol, startPortalHub, type PortalHub } from './portal-hub';

jest.setTimeout(180_000);

let hub: PortalHub;
let chrome: Chromium;
let pat: Person;
let patientId: string;
let device: { id: string; latest: string };

async function api(username: string, query: string, variables?: Record<string, unknown>) {
  return gql(`${hub.gateway}/graphql`, query, variables, { authorization: `Bearer ${hub.token(username)}` });
}


const account = (role: string) =>
  hub
    .cli('users', '--role', role, '--limit', '50')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((p) => p.length >= 4)[0]!;

beforeAll(async () => {
  [hub, chrome] = await Promise.all([startPortalHub(), launchChromium()]);
  const clinician = account('clinician')[0]!;
  const { patients } = ok(await api(clinician, '{ patients(first: 50) { nodes { id devices { id readings(first: 1) { totalCount nodes { recordedAt } } } } } }'));
  const p = patients.nodes.find((n: any) => n.devices?.some((d: any) => d.readings?.totalCount >= 12));
  patientId = p.id;
  const d = p.devices.find((x: any) => x.readings.totalCount >= 12);
  device = { id: d.id, latest: d.readings.nodes[0].recordedAt };
  pat = await person(chrome, 'charts-patient');
  await enrol(hub, pat, 'charts.patient', '--role', 'patient', '--patient', patientId);
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  if (hub && hub.process.exitCode === null) await hub.stop();
});

test('lab results: one trend chart per LOINC code, the reference range as a band, abnormal results marked, the same numbers in its table', async () => {
  await pat.page.goto(`${hub.origin}/#/me`);
  const labs = pat.page.locator('section[data-category="LABS"]');
  await labs.locator('figure.chart-series').first().waitFor();
  const { patient } = ok(await api('charts.patient', 'query($p: ID!) { patient(id: $p) { labResults(first: 100) { nodes { code { code } value interpretation referenceRange { low high } } } } }', { p: patientId }));
  const codes = [...new Set(patient.labResults.nodes.map((r: any) => r.code.code))];
  const figures = labs.locator('figure.chart-series');
  expect(await figures.count()).toBe(codes.length);
  for (const code of codes) {
    const mine = patient.labResults.nodes.filter((r: any) => r.code.code === code);
    const fig = figures.filter({ hasText: `LOINC ${code})` });
    expect(await fig.getAttribute('tabindex')).toBe('0');
    expect(await fig.locator('tbody tr').count()).toBe(mine.length);
    expect(await fig.locator('.chart-point.abnormal').count()).toBe(mine.filter((r: any) => r.interpretation !== 'NORMAL').length);
    if (mine.some((r: any) => r.referenceRange)) expect(await fig.locator('rect.chart-band').count()).toBe(1);
    expect(await fig.locator('svg').getAttribute('aria-label')).toMatch(new RegExp(`${mine.length} values? from`));
  }
  // Keyboard: tabbing reaches the charts.
  await pat.page.locator('section[data-category="LABS"] h3').click();
  let reached = false;
  for (let i = 0; i < 10 && !reached; i++) {
    await pat.page.keyboard.press('Tab');
    reached = Boolean(await pat.page.evaluate("document.activeElement && document.activeElement.matches('figure.chart-series')"));
  }
  expect(reached).toBe(true);
});

test('device readings: gathered page by page until the period is covered, capped with a message, and charted per metric', async () => {
  await pat.page.goto(`${hub.origin}/#/me`);
  const panel = pat.page.locator(`li.device[data-device-id="${device.id}"]`);
  await panel.locator('figure.chart-series').first().waitFor();
  // What the API holds for the default period (7 days up to the latest reading).
  const until = new Date(Date.parse(device.latest) + 1);
  const since = new Date(until.getTime() - 7 * 24 * 3600_000);
  const all: any[] = [];
  let after: string | null = null;
  for (;;) {
    const res: any = ok(await api('charts.patient', 'query($d: ID!, $s: DateTime, $u: DateTime, $a: String) { device(id: $d) { readings(since: $s, until: $u, oldestFirst: true, first: 100, after: $a) { pageInfo { hasNextPage endCursor } nodes { metric value recordedAt } } } }', { d: device.id, s: since.toISOString(), u: until.toISOString(), a: after }));
    all.push(...res.device.readings.nodes);
    if (!res.device.readings.pageInfo.hasNextPage) break;
    after = res.device.readings.pageInfo.endCursor;
  }
  const metrics = [...new Set(all.map((r) => r.metric))];
  expect(await panel.locator('figure.chart-series').count()).toBe(metrics.length);
  expect(await panel.locator('figure.chart-series tbody tr').count()).toBe(all.length);

  // The paging itself, in the page, on the real API: small pages follow pageInfo to the end…
  const run = (pageSize: number, maxPages: number) =>
    pat.page.evaluate(
      `import('/app/js/readings.js').then((m) => m.collectReadings(${JSON.stringify(device.id)}, new Date(${JSON.stringify(since.toISOString())}), new Date(${JSON.stringify(until.toISOString())}), { pageSize: ${pageSize}, maxPages: ${maxPages} }))`,
    ) as Promise<{ readings: any[]; total: number; capped: boolean; pages: number }>;
  const paged = await run(5, 100);
  expect(paged.capped).toBe(false);
  expect(paged.pages).toBe(Math.ceil(all.length / 5));
  expect(paged.readings.map((r) => r.recordedAt + r.metric)).toEqual(all.map((r) => r.recordedAt + r.metric));
  // …and stop at the cap, saying how many there were.
  const capped = await run(5, 2);
  expect([capped.capped, capped.readings.length, capped.total]).toEqual([true, 10, all.length]);

  // A period with no readings says so, and when the latest was.
  await panel.getByLabel('Period', { exact: true }).selectOption('custom');
  await panel.getByLabel('From', { exact: true }).fill('2020-01-01T00:00');
  await panel.getByLabel('To', { exact: true }).fill('2020-01-02T00:00');
  await panel.getByRole('button', { name: 'Show readings' }).click();
  await panel.getByText(/^No readings from .* The latest reading is from/).waitFor();
  expect(await panel.locator('figure.chart-series').count()).toBe(0);
  expect(pat.problems).toEqual([]);
});

test('a device that records every minute: the chart stops at the cap (20 pages of 100) and says how many it left out', async () => {
  // Three days of one reading a minute, ending now, signed with the device's own key as the device would.
  const { device: d } = ok(await api('charts.patient', 'query($d: ID!) { device(id: $d) { metrics lastSequence } }', { d: device.id }));
  const metric = d.metrics[0] as string;
  const value = metric === 'GLUCOSE' ? 110 : metric === 'SPO2' ? 97 : 70;
  const key = deviceKeyFromSeed(Buffer.from(JSON.parse(fs.readFileSync(deviceKeysPath(hub.database.env.DATA_DIR), 'utf8'))[device.id], 'hex'));
  const now = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  const minutes = 3 * 24 * 60;
  for (let batch = 0, sequence = d.lastSequence + 1; batch * 1000 < minutes; batch++, sequence++) {
    const readings = Array.from({ length: Math.min(1000, minutes - batch * 1000) }, (_, i) => ({ metric, value: value + ((batch * 1000 + i) % 7), recordedAt: new Date(now - (batch * 1000 + i) * 60_000).toISOString() }));
    const res = await api('charts.patient', 'mutation($input: IngestReadingsInput!) { ingestReadings(input: $input) { accepted } }', {
      input: { deviceId: device.id, sequence, readings, signature: signBatch({ deviceId: device.id, sequence, readings }, key) },
    });
    expect(ok(res).ingestReadings.accepted).toBe(readings.length);
  }
  await loadPage(pat.page, `${hub.origin}/#/me`);
  const panel = pat.page.locator(`li.device[data-device-id="${device.id}"]`);
  const message = panel.getByText(/^Showing the first 2000 of \d+ readings in this period/);
  await message.waitFor();
  const total = Number(/of (\d+) readings/.exec(await message.innerText())![1]);
  expect(total).toBeGreaterThanOrEqual(minutes);
  expect(await panel.locator('figure.chart-series tbody tr').count()).toBe(2000);
  expect(await panel.locator('figure.chart-series').first().innerHTML()).not.toMatch(/NaN|Infinity/);
  // A shorter period fits: the last 24 hours, all of them, no message.
  await panel.getByLabel('Period', { exact: true }).selectOption('24h');
  await panel.getByRole('button', { name: 'Show readings' }).click();
  await panel.locator('figure.chart-series').first().waitFor();
  await pat.page.waitForFunction(() => !document.querySelector('main .loading, main [aria-busy="true"]'));
  expect(await message.count()).toBe(0);
  expect(await panel.locator('figure.chart-series tbody tr').count()).toBeGreaterThanOrEqual(24 * 60);
  expect(pat.problems).toEqual([]);
});

test('cohort histograms: the API’s buckets, withheld ones drawn and listed as withheld, never as a number', async () => {
  const [, , practitioner, institution] = account('researcher');
  const res = await person(chrome, 'charts-researcher');
  await enrol(hub, res, 'charts.researcher', '--role', 'researcher', '--institution', institution!, '--practitioner', practitioner!);
  await res.page.getByLabel('Lab test').selectOption('4548-4');
  await res.page.getByRole('button', { name: 'Show chart' }).click();
  await res.page.locator('table.cohort-table').waitFor();
  const { researchProjects } = ok(await api('charts.researcher', '{ researchProjects(first: 50) { nodes { id title viewerIsMember } } }'));
  let drawn = 0;
  for (const project of researchProjects.nodes.filter((p: any) => p.viewerIsMember)) {
    const s = ok(await api('charts.researcher', 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "4548-4") { suppressed distribution { low high count suppressed } } }', { p: project.id })).cohortSummary;
    const fig = res.page.locator('figure.chart-histogram').filter({ hasText: ` in ${project.title}:` });
    if (s.suppressed) {
      expect(await fig.count()).toBe(0);
      continue;
    }
    drawn++;
    const cells = await fig.locator('tbody tr td:nth-child(2)').allInnerTexts();
    expect(cells).toEqual(s.distribution.map((b: any) => (b.suppressed ? 'withheld' : String(b.count))));
    expect(await fig.locator('rect.chart-withheld').count()).toBe(s.distribution.filter((b: any) => b.suppressed).length);
  }
  expect(drawn).toBeGreaterThan(0);
  await res.context.close();
});

test('no data, one value, all equal, all withheld: no chart draws Infinity or NaN, and each says what is going on', async () => {
  const out = (await pat.page.evaluate(`(async () => {
    const c = await import('/app/js/chart.js');
    const t = Date.parse('2026-11-01T00:00:00Z');
    const figures = [
      c.timeSeries({ title: 'none', unit: 'mg/dL', points: [], band: { low: 70, high: 99 }, empty: 'No readings in this period.' }),
      c.timeSeries({ title: 'one', unit: 'mg/dL', points: [{ t, v: 80 }] }),
      c.timeSeries({ title: 'equal', unit: '%', points: [{ t, v: 5 }, { t: t + 1, v: 5 }, { t: t + 2, v: 5 }] }),
      c.timeSeries({ title: 'junk', unit: '%', points: [{ t: NaN, v: 5 }, { t, v: Infinity }] }),
      c.histogram({ title: 'withheld', unit: '%', buckets: [{ low: 4, high: 5, count: null, suppressed: true }, { low: 5, high: 6, count: null, suppressed: true }] }),
      c.histogram({ title: 'empty', unit: '%', buckets: [] }),
    ];
    const ranges = [c.rangeChart([], 'no cohorts'), c.rangeChart([{ label: 'A', count: 0, mean: null, min: null, max: null, unit: '%', hidden: 'Fewer than 10 patients contribute (COHORT_MIN_SIZE)' }], 'all hidden')];
    return [...figures.map((f) => ({ html: f.outerHTML, text: f.textContent, focusable: f.tabIndex === 0, caption: f.querySelector('figcaption')?.textContent, rows: f.querySelectorAll('tbody tr').length })),
            ...ranges.map((r) => ({ html: r.outerHTML, text: r.textContent, focusable: true, caption: 'svg', rows: 0 }))];
  })()`)) as { html: string; text: string; focusable: boolean; caption: string; rows: number }[];
  for (const f of out) {
    expect(f.html).not.toMatch(/NaN|Infinity|∞/);
    expect(f.focusable).toBe(true);
    expect(f.caption).toBeTruthy();
  }
  expect(out[0]!.text).toContain('No readings in this period.');
  expect(out.slice(1, 3).map((f) => f.rows)).toEqual([1, 3]);
  expect(out[4]!.text).toMatch(/withheld.*withheld/);
  expect(out[7]!.text).toMatch(/COHORT_MIN_SIZE/);
});
