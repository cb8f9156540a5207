import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { root } from './console-build.js';

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
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function text(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).first().textContent()) ?? '').trim();
}

/** Waits until the element's text satisfies `check` (rendering after a click is asynchronous). */
export async function waitForText(page: Page, testId: string, check: (value: string) => boolean, timeout = 10_000): Promise<string> {
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
  const widths = await page.evaluate<{ scroll: number; client: number }>('({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })');
  expect(widths.scroll, `page is ${widths.scroll}px wide in a ${widths.client}px viewport`).toBeLessThanOrEqual(widths.client);
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
