/**
 * The web console in a real headless Chromium against a real all-role server (its HTTP port
 * serves the console and the REST API) and real Subscribers polling every 200 ms: the topic
 * list; the pin story (pin v1 with a reason from the console, the subscribers move back and
 * the consumers view shows it, unpin); a rollout paused, resumed and cancelled from the
 * console; the keyboard path to the pin dialog and focus in it; axe-core on the main pages;
 * and no console or page errors on any of them. On this server nothing authenticates (the
 * loopback embedded default): every action is allowed.
 */
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../scripts/chromium.js';
import { eventually } from '../access-calls.js';
import { axeViolations, openConsole, publish, rolloutPolicy, scorer, startFleet, type Fleet } from './harness.js';

/** Waits until the locator's text contains `text` (the page refreshes every 5 s; generous for a shared machine). */
async function showsText(loc: Locator, text: string, ms = 60_000): Promise<void> {
  await eventually(`"${text}" on the page`, async () => ((await loc.textContent({ timeout: 1000 }).catch(() => null)) ?? '').includes(text), ms);
}

describe('the web console in Chromium (a server without authentication)', () => {
  let browser: Browser;
  let f: Fleet;

  beforeAll(async () => {
    browser = await launchChromium();
    f = await startFleet();
    await f.admin.createTopic({ name: 'fraud-model', owner: 'trust-team', description: 'card fraud scores' });
    await publish(f.admin, 'fraud-model', 'weights v1');
    await publish(f.admin, 'fraud-model', 'weights v2');
    await f.follow('fraud-model', [scorer('s1'), scorer('s2'), scorer('s3', 'c2', 'us-east-1')]);
    // A topic with a rollout: v2 goes to the canary cluster first, then everyone after an hour.
    await f.admin.createTopic({ name: 'ranker', owner: 'search' });
    await publish(f.admin, 'ranker', 'ranker v1');
    await f.admin.updateTopic('ranker', { rolloutPolicy: rolloutPolicy('cluster=canary 1h; * 1h') });
    await f.follow('ranker', [scorer('canary-1', 'canary'), scorer('main-1', 'main')]);
    await publish(f.admin, 'ranker', 'ranker v2');
    await eventually('the canary on ranker v2', async () => f.subs.get('canary-1')?.current === 'ranker v2');
  });
  afterAll(async () => {
    await browser?.close();
    await f?.stop();
  });

  it('lists the topics with owner, latest version and consumer count; no console errors; axe finds nothing', async () => {
    const { page, errors } = await openConsole(browser, f.consoleUrl);
    const row = page.getByRole('row', { name: /fraud-model/ });
    await showsText(row, 'trust-team');
    await showsText(row, 'v2');
    // 3 nodes poll it (one DescribeTopic per topic on the page).
    await eventually('the consumer count', async () => (await row.getByRole('cell').nth(5).textContent()) === '3');
    await page.getByLabel('Search topics').fill('rank');
    await eventually('the search to leave one topic', async () => (await page.locator('tbody tr').count()) === 1);
    await showsText(page.locator('tbody'), 'ranker');
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('the pin story: pin v1 with a reason, the subscribers move back and the consumers view shows it; unpin', async () => {
    const { page, errors } = await openConsole(browser, `${f.consoleUrl}#/topics/fraud-model`);
    const groups = page.getByTestId('consumer-groups');
    await showsText(groups, 'v2: 2');
    // 1. Pin v1: the dialog names the change and wants a reason.
    await page.getByTestId('pin-1').click();
    const dialog = page.getByRole('dialog');
    await showsText(dialog.getByTestId('dialog-change'), 'Every consumer of topic "fraud-model" will be forced to version 1');
    const confirm = dialog.getByRole('button', { name: 'Pin', exact: true });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Reason (required)').fill('v2 misbehaves');
    await confirm.click();
    await eventually('the dialog to close', async () => !(await dialog.isVisible()));
    // 2. Real subscribers move back, and the consumers view (refreshed every 5 s) shows it.
    await eventually('every subscriber on v1', async () => [...f.subs.entries()].filter(([k]) => k.startsWith('s')).every(([, s]) => s.current === 'weights v1'));
    await showsText(groups, 'v1: 2');
    await showsText(page.getByTestId('consumers-summary'), 'v1 on 3');
    const pins = page.getByTestId('pins');
    await showsText(pins, 'v2 misbehaves');
    await showsText(pins, 'console');
    expect((await f.admin.listPins('fraud-model')).map((p) => [p.version, p.reason])).toEqual([[1n, 'v2 misbehaves']]);
    // 3. Unpin: everyone back on v2.
    await page.getByRole('button', { name: 'Unpin everyone' }).click();
    await showsText(dialog.getByTestId('dialog-change'), 'The pin of topic "fraud-model" on everyone (version 1) will be removed');
    await dialog.getByRole('button', { name: 'Unpin', exact: true }).click();
    await eventually('every subscriber on v2 again', async () => [...f.subs.entries()].filter(([k]) => k.startsWith('s')).every(([, s]) => s.current === 'weights v2'));
    await showsText(groups, 'v2: 2');
    expect(await f.admin.listPins('fraud-model')).toEqual([]);
    await showsText(page.getByTestId('history'), 'unpin');
    expect(errors).toEqual([]);
  });

  it('a rollout paused, resumed and cancelled from the console; the canary moves back', async () => {
    const { page, errors } = await openConsole(browser, `${f.consoleUrl}#/topics/ranker`);
    const state = page.getByTestId('rollout-state');
    const dialog = page.getByRole('dialog');
    await showsText(state, 'running');
    expect(await page.getByTestId('rollout-resume').isDisabled()).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    // Pause, with a reason.
    await page.getByTestId('rollout-pause').click();
    await showsText(dialog.getByTestId('dialog-change'), 'The rollout of v2 of topic "ranker" will hold at step 1');
    await dialog.getByLabel('Reason (optional)').fill('looking at the canary');
    await dialog.getByRole('button', { name: 'Pause', exact: true }).click();
    await showsText(state, 'paused');
    expect((await f.admin.getRollout('ranker')).rollout.state).toBe('paused');
    // Resume.
    await page.getByTestId('rollout-resume').click();
    await dialog.getByRole('button', { name: 'Resume', exact: true }).click();
    await showsText(state, 'running');
    expect((await f.admin.getRollout('ranker')).rollout.state).toBe('running');
    // Cancel: the canary goes back to v1; main never left it.
    await page.getByTestId('rollout-cancel').click();
    await showsText(dialog.getByTestId('dialog-change'), 'v2 of topic "ranker" will be withdrawn');
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).last().click();
    await showsText(state, 'cancelled');
    expect((await f.admin.getRollout('ranker')).rollout.state).toBe('cancelled');
    await eventually('the canary back on v1', async () => f.subs.get('canary-1')?.current === 'ranker v1');
    expect(f.subs.get('main-1')?.current).toBe('ranker v1');
    // Nothing is left to do to it.
    for (const verb of ['pause', 'resume', 'promote', 'cancel']) expect(await page.getByTestId(`rollout-${verb}`).isDisabled()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('keyboard: Tab reaches the pin button, Enter opens the dialog with focus inside, Escape closes it and gives focus back; axe finds nothing on the page or the dialog', async () => {
    const { page, errors } = await openConsole(browser, `${f.consoleUrl}#/topics/fraud-model`);
    await showsText(page.getByTestId('versions'), 'v1');
    const pin = page.getByTestId('pin-1');
    const focused = () => page.evaluate(`document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.id ?? ''`);
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await focused()) === 'pin-1';
    }
    expect(reached).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await eventually('the dialog open', () => dialog.isVisible());
    expect(await focused()).toBe('dialog-scope');
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await eventually('the dialog closed', async () => !(await dialog.isVisible()));
    expect(await focused()).toBe('pin-1');
    expect(await pin.isEnabled()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('versions and history page through the API 20 at a time: Older to the oldest, Newer back', async () => {
    await f.admin.createTopic({ name: 'archive', owner: 'trust-team' });
    for (let v = 1; v <= 25; v++) await publish(f.admin, 'archive', `archive v${v}`);
    const { page, errors } = await openConsole(browser, `${f.consoleUrl}#/topics/archive`);
    const versions = page.getByTestId('versions');
    const firstCells = async () => (await versions.locator('tbody tr td:first-child').allTextContents()).join(' ');
    const pager = page.getByRole('navigation', { name: 'Version pages' });
    await eventually('the newest 20 versions', async () => (await firstCells()) === Array.from({ length: 20 }, (_, i) => `v${25 - i}`).join(' '));
    expect(await pager.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Older' }).click();
    await eventually('the oldest 5 versions', async () => (await firstCells()) === 'v5 v4 v3 v2 v1');
    expect(await pager.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Newer' }).click();
    await eventually('the newest 20 again', async () => (await firstCells()).startsWith('v25 v24'));
    // The history: 26 changes (the create and 25 publishes); its second page ends with the create.
    const history = page.getByTestId('history');
    await page.getByRole('navigation', { name: 'History pages' }).getByRole('button', { name: 'Older' }).click();
    await eventually('the history second page', async () => (await history.locator('tbody tr').count()) === 6);
    await showsText(history.locator('tbody tr').last(), 'create topic');
    // Empty details (no retention set) are left out, not shown as "keep_versions: ".
    expect(await history.textContent()).not.toContain('keep_versions: ;');
    expect(errors).toEqual([]);
  });
});
