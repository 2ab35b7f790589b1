// @ts-check
/**
 * Research: projects and their cohorts as the caller may see them (patients by
 * pseudonym unless they allowed identified data), and a cohort summary chart for a lab
 * code across projects.
 */
import { forbiddenAt, graphql, readable } from '../api.js';
import { histogram, rangeChart } from '../chart.js';
import { busy, field, h, hiddenBadge, notice, replace, select } from '../dom.js';
import { LAB_CODES, num } from '../format.js';

const PROJECTS_QUERY = `query Projects {
  researchProjects(first: 50) {
    nodes {
      id title status purpose viewerIsMember institution { name }
      enrolments(first: 25) { totalCount nodes { pseudonym status patient { id name { text } } } }
    }
  }
}`;

/** Cohort summaries asked for in one request (each is an aliased root field). */
export const COHORTS_PER_REQUEST = 10;

/** @param {HTMLElement} main */
export async function renderResearch(main) {
  const chartArea = h('div', { class: 'chart-area', 'aria-live': 'polite' });
  const projectsArea = h('div');
  const code = select({ name: 'loinc' }, LAB_CODES);
  const show = h('button', { type: 'submit', class: 'primary' }, 'Show chart');
  /** @type {any[]} */
  let projects = [];
  const form = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        busy(show, () => cohortChart(chartArea, projects, code.value));
      },
    },
    field('Lab test', code),
    show,
  );
  replace(
    main,
    h('h1', {}, 'Research cohorts'),
    h('section', { class: 'card', 'aria-labelledby': 'chart-title' }, h('h2', { id: 'chart-title' }, 'Cohort summary'), h('p', { class: 'hint' }, 'The latest final result of a lab test for each patient in each cohort you may see: range, mean and count.'), form, chartArea),
    projectsArea,
  );
  try {
    const { data, errors } = await graphql(PROJECTS_QUERY);
    if (!data?.researchProjects) throw errors?.[0] ?? new Error('no projects');
    // Cohorts are for a project's members: the others are listed without them.
    const all = data.researchProjects.nodes;
    projects = all.filter((/** @type {any} */ p) => p.viewerIsMember);
    const others = all.filter((/** @type {any} */ p) => !p.viewerIsMember);
    replace(
      projectsArea,
      projects.length ? null : notice('info', 'You are not a member of any research project, so there are no cohorts to show.'),
      others.length ? h('p', { class: 'hint' }, `Other projects (you do not work on them): ${others.map((/** @type {any} */ p) => p.title).join(', ')}.`) : null,
      all.map((/** @type {any} */ p, /** @type {number} */ i) => (p.viewerIsMember ? h(
          'section',
          { class: 'card project', 'aria-labelledby': `proj-${i}` },
          h('h2', { id: `proj-${i}` }, p.title),
          h('p', { class: 'hint' }, `${p.status.toLowerCase()} · ${p.institution?.name ?? ''}`),
          h('p', {}, p.purpose),
          cohortTable(p, i, errors),
        ) : null),
      ),
    );
  } catch (err) {
    replace(projectsArea, notice('error', readable(err)));
  }
  await busy(show, () => cohortChart(chartArea, projects, code.value));
}

/**
 * @param {any} p
 * @param {number} i
 * @param {import('../api.js').GraphQLError[] | undefined} errors
 */
function cohortTable(p, i, errors) {
  const hidden = forbiddenAt(errors, ['researchProjects', 'nodes', i, 'enrolments'], { exact: true });
  if (hidden) return hiddenBadge('The cohort is', readable(hidden));
  const conn = p.enrolments;
  if (!conn || conn.totalCount === 0) return h('p', {}, 'No enrolments you may see.');
  return [
    h('p', { class: 'hint' }, `${conn.totalCount} enrolments you may see (showing ${conn.nodes.length}). Patients who did not consent are neither listed nor counted.`),
    h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `Cohort of ${p.title}` },
      h('table', {},
        h('thead', {}, h('tr', {}, ['Pseudonym', 'Patient', 'Status'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, conn.nodes.map((/** @type {any} */ e, /** @type {number} */ j) => {
          const hiddenPatient = forbiddenAt(errors, ['researchProjects', 'nodes', i, 'enrolments', 'nodes', j, 'patient']);
          return h('tr', {},
            h('td', {}, e.pseudonym ? h('code', {}, e.pseudonym) : '—'),
            h('td', {}, e.patient?.name ? h('a', { href: `#/patient/${encodeURIComponent(e.patient.id)}` }, e.patient.name.text) : hiddenBadge('Identity', hiddenPatient ? readable(hiddenPatient) : 'pseudonymised: no consent to identified data')),
            h('td', {}, e.status.toLowerCase()),
          );
        })),
      ),
    ),
  ];
}

/**
 * @param {HTMLElement} target
 * @param {any[]} projects
 * @param {string} loinc
 */
async function cohortChart(target, projects, loinc) {
  if (!projects.length) {
    replace(target, h('p', { class: 'empty' }, 'No cohorts to chart: you are not a member of any research project. A project’s members see its cohort.'));
    return;
  }
  replace(target, h('p', { class: 'loading' }, 'Computing…'));
  const aliases = projects.map((p, i) => `p${i}: cohortSummary(projectId: ${JSON.stringify(p.id)}, loinc: $loinc) { count mean min max unit suppressed suppressedReason distribution { low high count suppressed } }`);
  try {
    // A few projects per request: the gateway refuses operations with more than
    // MAX_QUERY_ALIASES (15 by default) aliases or root fields.
    const chunks = [];
    for (let i = 0; i < aliases.length; i += COHORTS_PER_REQUEST) chunks.push(aliases.slice(i, i + COHORTS_PER_REQUEST));
    const answers = await Promise.all(chunks.map((chunk) => graphql(`query Cohorts($loinc: String!) { ${chunk.join('\n')} }`, { loinc })));
    const data = Object.assign({}, ...answers.map((a) => a.data ?? {}));
    const errors = answers.flatMap((a) => a.errors ?? []);
    const rows = projects.map((p, i) => {
      const s = data?.[`p${i}`];
      const err = forbiddenAt(errors, [`p${i}`]) ?? (s ? undefined : errors?.find((e) => e.path?.[0] === `p${i}`));
      if (s?.suppressed) return { label: p.title, count: 0, mean: null, min: null, max: null, unit: s.unit, hidden: s.suppressedReason ?? 'suppressed: too few patients', distribution: null };
      return s
        ? { label: p.title, count: s.count, mean: s.mean, min: s.min, max: s.max, unit: s.unit, distribution: s.distribution }
        : { label: p.title, count: 0, mean: null, min: null, max: null, unit: null, hidden: readable(err), distribution: null };
    });
    const label = LAB_CODES.find(([c]) => c === loinc)?.[1] ?? loinc;
    const shown = rows.filter((r) => !r.hidden && r.count > 0);
    const allSuppressed = rows.length > 0 && rows.every((r) => r.hidden);
    replace(
      target,
      allSuppressed
        ? notice('info', `Every cohort’s ${label} summary is withheld or hidden: each has too few patients with a result (fewer than the minimum, COHORT_MIN_SIZE) or is not open to you. Nothing about individuals is shown; try another lab test.`)
        : shown.length === 0
        ? h('p', { class: 'empty' }, `No patient in your cohorts has a final ${label} result.`)
        : null,
      rangeChart(rows, `${label} by cohort`),
      h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `${label} by cohort, as a table` },
        h('table', { class: 'cohort-table' },
          h('caption', {}, `${label}: latest final result per patient`),
          h('thead', {}, h('tr', {}, ['Cohort', 'Patients', 'Min', 'Mean', 'Max'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, rows.map((r) => h('tr', {},
            h('th', { scope: 'row' }, r.label),
            r.hidden ? h('td', { colspan: 4 }, hiddenBadge('Summary', r.hidden)) : [h('td', { class: 'num' }, r.count), h('td', { class: 'num' }, `${num(r.min)} ${r.unit ?? ''}`), h('td', { class: 'num' }, `${num(r.mean)} ${r.unit ?? ''}`), h('td', { class: 'num' }, `${num(r.max)} ${r.unit ?? ''}`)],
          ))),
        ),
      ),
      shown.length ? h('h3', {}, 'Distribution of the latest values') : null,
      h('div', { class: 'chart-grid' }, shown.map((r) =>
        r.distribution?.length
          ? histogram({ title: `${label} in ${r.label}: patients by latest value`, unit: r.unit ?? '', buckets: r.distribution })
          : null,
      )),
    );
  } catch (err) {
    replace(target, notice('error', readable(err)));
  }
}
