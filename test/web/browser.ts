/**
 * Real headless Chromium (Debian's, driven by playwright-core) for the web portal's
 * tests, with a virtual passkey authenticator per page through the DevTools protocol,
 * and screenshots kept as test artifacts in test/web/artifacts/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(__dirname, 'artifacts');

/** Flags for a machine without internet: no background traffic, no sandbox (root, containers). */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  // playwright-core gives every launch a fresh temporary --user-data-dir of its own.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

export interface Person {
  context: BrowserContext;
  page: Page;
  /** The virtual authenticator's credentials (what the "device" holds). */
  credentials(): Promise<unknown[]>;
  shot(name: string): Promise<string>;
  /** Messages the page logged as errors, and uncaught exceptions. */
  problems: string[];
}

/**
 * Loads `url` as a new document: one load, one rendering. A goto to another hash of the
 * page already open only changes the hash (the portal may render it with what it read at
 * its load), and a reload after it renders twice — the second rendering then sees what the
 * first one stored (a key pinned on first use), which is how the pinning tests flaked.
 */
export async function loadPage(page: Page, url: string): Promise<void> {
  await page.goto('about:blank');
  await page.goto(url);
}

/**
 * A person at their own browser: a fresh context (own storage) and a page with a
 * virtual platform authenticator that holds resident keys and verifies its user.
 */
export async function person(chrome: Chromium, label: string, viewport = { width: 1280, height: 900 }): Promise<Person> {
  const context = await chrome.browser.newContext({ viewport });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    // A refused request (4xx) is logged by Chromium itself; the tests check what the page says about it.
    if (msg.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) {
      problems.push(`console: ${msg.text()}`);
    }
  });
  let shots = 0;
  return {
    context,
    page,
    problems,
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
    async shot(name: string) {
      shots += 1;
      const file = path.join(ARTIFACTS, `${label}-${String(shots).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}

/** axe-core in the page: its serious and critical accessibility violations (none is the goal). */
export async function accessibilityProblems(who: Person): Promise<string[]> {
  await who.page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  return (await who.page.evaluate(
    `axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })
      .then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
      .map(v => v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))`,
  )) as string[];
}
