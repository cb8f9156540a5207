import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { buildGroup, createWorld, type GroupFixture, type World } from '../support/world.js';
import { distDir, ensureConsoleBuilt, root } from './console-build.js';

/**
 * What every browser test shares: Debian's Chromium (never a downloaded browser), the
 * rule that a missing Chromium skips the tests unless REQUIRE_BROWSER_TESTS=1 (then they
 * fail), the screen sizes, and the small waits and checks the tests read with.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const browserRequired = process.env.REQUIRE_BROWSER_TESTS === '1';
export const outputDir = join(root, 'test-output');

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 860 };

/** Headless Chromium with the flags this closed network needs (no background connections). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function text(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).first().textContent()) ?? '').trim();
}

/** Waits until the element's text satisfies `check` (rendering after a click is asynchronous). */
export async function waitForText(
  page: Page,
  testId: string,
  check: (value: string) => boolean,
  timeout = 10_000,
): Promise<string> {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    last = await text(page, testId).catch(() => '');
    if (check(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`[data-testid=${testId}] never showed the expected text; last seen: "${last}"`);
}

/** Nothing may stick out sideways: a page wider than the phone would scroll horizontally. */
export async function expectNoHorizontalScroll(page: Page): Promise<void> {
  // A string, not a function: the test compiles without the DOM library.
  const widths = await page.evaluate<{ scroll: number; client: number }>(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  );
  expect(widths.scroll, `page is ${widths.scroll}px wide in a ${widths.client}px viewport`).toBeLessThanOrEqual(
    widths.client,
  );
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByTestId('signin-email').fill(email);
  await page.getByTestId('signin-password').fill(password);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('page-title').waitFor();
}

/**
 * The whole page as a person scrolling through it sees it: the viewport grows to the page's
 * height for the picture (a full-page capture would paint sticky bars mid-page), then shrinks back.
 */
export async function screenshotPage(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize()!;
  const height = await page.evaluate<number>('document.documentElement.scrollHeight');
  await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(outputDir, name) });
  await page.setViewportSize(viewport);
  await page.waitForTimeout(100);
}

/** Opens a page from the phone's navigation drawer. */
export async function viaMenu(page: Page, navTestId: string): Promise<void> {
  await page.getByTestId('nav-toggle').click();
  await page.getByTestId(navTestId).waitFor({ state: 'visible' });
  await page.getByTestId(navTestId).click();
  await page.getByTestId(navTestId).waitFor({ state: 'hidden' });
  await page.waitForTimeout(250); // the drawer slides away before the next picture
}

export interface BrowserSuite {
  readonly world: World;
  readonly group: GroupFixture;
  /** The loopback address the console and API answer on. */
  readonly base: string;
  /** A page in a fresh context; on a failed test its screenshot lands in test-output/<screenshots>-failure-<name>.png. */
  newPage(
    viewport: { width: number; height: number },
    onTestFailed: (fn: () => Promise<void>) => void,
    name: string,
  ): Promise<Page>;
}

/**
 * The set-up every browser test file shares, registered as its beforeAll/afterAll: the built
 * console served by a world on a loopback port, a group, and Chromium; everything closed after.
 * Call it first in the describe block, so its beforeAll runs before the file's own.
 */
export function useBrowserSuite(options: {
  screenshots: string;
  groupName?: string;
  touch?: boolean;
  timeoutMs?: number;
}): BrowserSuite {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const state: { world?: World; group?: GroupFixture; base?: string } = {};
  const touch = options.touch ?? true;

  beforeAll(async () => {
    if (!hasChromium)
      throw new Error(`REQUIRE_BROWSER_TESTS=1 but ${CHROMIUM} does not exist: install Debian's chromium package.`);
    mkdirSync(outputDir, { recursive: true });
    await ensureConsoleBuilt();
    const world = await createWorld({ SIGIL_CONSOLE_DIR: distDir });
    state.world = world;
    await world.app.listen({ port: 0, host: '127.0.0.1' });
    state.base = `http://127.0.0.1:${(world.app.server.address() as AddressInfo).port}`;
    state.group = await buildGroup(world, ...(options.groupName ? [options.groupName] : []));
    browser = await launchChromium();
  });

  // The console must work under the server's Content-Security-Policy: Chromium reports each
  // refused script, style, image or connection on the console, and any one fails the test.
  const violations: string[] = [];
  afterEach(() => {
    const seen = violations.splice(0);
    expect(seen, 'Content-Security-Policy violations').toEqual([]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await state.world?.close();
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the browser suite's ${what} is read before its beforeAll ran`);
    return value;
  };
  return {
    get world() {
      return ready(state.world, 'world');
    },
    get group() {
      return ready(state.group, 'group');
    },
    get base() {
      return ready(state.base, 'base');
    },
    async newPage(viewport, onTestFailed, name) {
      const context = await ready(browser, 'browser').newContext({
        viewport,
        locale: 'en-US',
        deviceScaleFactor: 1,
        ...(touch ? { hasTouch: viewport.width < 500, acceptDownloads: true } : {}),
      });
      contexts.push(context);
      const page = await context.newPage();
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(`${page.url()}: ${message.text()}`);
      });
      page.setDefaultTimeout(options.timeoutMs ?? 10_000);
      onTestFailed(async () => {
        await page
          .screenshot({ path: join(outputDir, `${options.screenshots}-failure-${name}.png`), fullPage: true })
          .catch(() => undefined);
      });
      return page;
    },
  };
}
