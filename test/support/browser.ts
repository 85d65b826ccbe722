/**
 * A real headless Chromium for the browser tests, driven by playwright-core.
 * The browser is the machine's own (Debian's `/usr/bin/chromium`, or
 * `CHROMIUM_PATH`): Playwright never downloads one. A missing browser fails
 * the run loudly with how to install it; browser tests never skip.
 */
import { access, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const NO_CHROMIUM =
  `No Chromium at ${CHROMIUM_PATH} for the browser tests (test/browser). Install Debian's: ` +
  '`apt-get install chromium` (.ci/run does this), or set CHROMIUM_PATH to a Chromium or Chrome binary. ' +
  "Never `npx playwright install`: the tests use playwright-core with the machine's browser.";

/** Without the background-networking flags Chromium keeps dialling Google's hosts, which this machine refuses. */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'screenshots');

/**
 * Launches headless Chromium. Playwright's `launch` gives it a fresh, empty
 * `--user-data-dir` in the temp directory and removes it on close.
 */
export async function launchBrowser(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(NO_CHROMIUM);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
}

/** What went wrong on a page: the test fails on any of it (4xx answers are only listed: the UI may expect them). */
export interface PageProblems {
  pageErrors: string[];
  consoleErrors: string[];
  cspViolations: string[];
  failedRequests: string[];
  /** Answers with status ≥ 400, `STATUS METHOD url`. */
  badResponses: string[];
}

export interface WatchedPage {
  page: Page;
  problems: PageProblems;
  /** Throws when the page had an uncaught error, a console error, a CSP violation, a failed request or a 5xx. */
  expectClean(): void;
}

/** Console lines Chromium itself prints for a 4xx answer (listed in `badResponses` instead). */
const RESOURCE_4XX = /^Failed to load resource: the server responded with a status of 4\d\d/;

/** A new page in `context` that records every problem from its first request on. */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const problems: PageProblems = {
    pageErrors: [],
    consoleErrors: [],
    cspViolations: [],
    failedRequests: [],
    badResponses: [],
  };
  const page = await context.newPage();
  // CSP violations reach the test whether or not Chromium also logs them.
  await page.exposeBinding(
    '__reportCspViolation',
    (_source, text: string) => void problems.cspViolations.push(text),
  );
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (globalThis as unknown as { __reportCspViolation?: (t: string) => void })
        .__reportCspViolation;
      void report?.(
        `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  page.on('pageerror', (err) => problems.pageErrors.push(`${err.name}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (RESOURCE_4XX.test(text)) return;
    if (/Content Security Policy/i.test(text)) problems.cspViolations.push(text);
    else
      problems.consoleErrors.push(`${text} (${msg.location().url}:${msg.location().lineNumber})`);
  });
  page.on('requestfailed', (req) => {
    const error = req.failure()?.errorText ?? 'failed';
    // Navigations and closed event streams abort their requests: not a failure of the page.
    if (error === 'net::ERR_ABORTED') return;
    problems.failedRequests.push(`${req.method()} ${req.url()}: ${error}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400)
      problems.badResponses.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return {
    page,
    problems,
    expectClean() {
      const fatal = [
        ...problems.pageErrors.map((e) => `page error: ${e}`),
        ...problems.cspViolations.map((e) => `CSP violation: ${e}`),
        ...problems.consoleErrors.map((e) => `console error: ${e}`),
        ...problems.failedRequests.map((e) => `request failed: ${e}`),
        ...problems.badResponses.filter((r) => r.startsWith('5')).map((e) => `server error: ${e}`),
      ];
      if (fatal.length > 0) {
        const listed =
          problems.badResponses.length > 0
            ? `\n(4xx answers: ${problems.badResponses.join('; ')})`
            : '';
        throw new Error(`the page had problems:\n${fatal.join('\n')}${listed}`);
      }
    },
  };
}

/** Saves a full-page screenshot as `test-results/screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
