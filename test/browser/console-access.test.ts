/**
 * The console on a server that authenticates bearer JWTs (keys made at test time, as
 * test/e2e/cli-jwt.test.ts does), with per-topic access control: the token pasted into the
 * console is what every request carries; a consumer-only principal reads the topic's versions
 * and pins, is told what it may not see, and has no action enabled; forced (the button enabled
 * by hand, or a request of its own), the API refuses it 403 and nothing changes. An operator
 * may pin but not add scopes.
 */
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../scripts/chromium.js';
import { combineAuthenticators, jwtAuthenticator, type JwtAuthenticator } from '../../server/index.js';
import { eventually } from '../access-calls.js';
import { tempDir } from '../helpers.js';
import { makeKey, signToken, writeJwks, type TestKey } from '../jwt-keys.js';
import { axeViolations, openConsole, publish, scorer, startFleet, type Fleet } from './harness.js';

const ISSUER = 'https://login.example.test';
const AUDIENCE = 'imprint-prod';

describe('the web console with JWT principals and per-topic access', () => {
  let browser: Browser;
  let f: Fleet;
  let jwt: JwtAuthenticator;
  let key: TestKey;
  const token = (sub: string) => signToken(key, { iss: ISSUER, aud: AUDIENCE, sub, imprint_apps: '*' });
  const topicUrl = () => `${f.consoleUrl}#/topics/fraud-model`;

  beforeAll(async () => {
    key = await makeKey('2026-11');
    const jwks = path.join(tempDir(), 'jwks.json');
    writeJwks(jwks, key);
    jwt = jwtAuthenticator({ jwks, issuers: [ISSUER], audience: AUDIENCE });
    browser = await launchChromium();
    // Consumers only by grant, so that the consumer role means something.
    f = await startFleet({ authenticate: combineAuthenticators({ bearer: jwt.authenticate }), access: { consume: 'owners' } }, await token('alice'));
    await f.admin.createTopic({ name: 'fraud-model', owner: 'trust-team' });
    await f.admin.grantAccess('fraud-model', { role: 'consumer', grantee: 'carl' });
    await f.admin.grantAccess('fraud-model', { role: 'operator', grantee: 'olga' });
    await publish(f.admin, 'fraud-model', 'weights v1');
    await publish(f.admin, 'fraud-model', 'weights v2');
    await f.follow('fraud-model', [scorer('s1')]);
  });
  afterAll(async () => {
    await browser?.close();
    await f?.stop();
    jwt?.close();
  });

  it('a consumer-only principal reads versions and pins, is told what it may not see, and has no action enabled; no console errors', async () => {
    const { page, errors } = await openConsole(browser, topicUrl(), await token('carl'));
    await eventually('the versions', async () => (await page.getByTestId('versions').getByRole('row').count()) === 3);
    expect(await page.getByTestId('access').textContent()).toBe('carl: consume');
    expect(await page.getByTestId('limited').textContent()).toContain('need the operator, publisher or owner role');
    // Nothing it may not read is asked for (no consumers, rollout or history sections).
    expect(await page.getByRole('heading', { name: 'Consumers' }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Change history' }).count()).toBe(0);
    const actions = page.locator('main td button');
    expect(await actions.count()).toBe(4); // pin and add scope, for each version
    for (const b of await actions.all()) expect(await b.isDisabled()).toBe(true);
    expect(await page.getByTestId('pin-1').getAttribute('title')).toBe('needs the operator or owner role on the topic');
    expect(await axeViolations(page)).toEqual([]);
    // The topic list says why it shows no consumer count, without a refused call.
    await page.getByRole('link', { name: 'All topics' }).click();
    const row = page.getByRole('row', { name: /fraud-model/ });
    await eventually('the list', async () => (await row.count()) === 1 && (await row.getByRole('cell').nth(5).textContent()) === '—');
    expect(errors).toEqual([]);
  });

  it('forced, the API refuses it 403 and nothing changes: a button enabled by hand, and a request of its own', async () => {
    const { page, errors } = await openConsole(browser, topicUrl(), await token('carl'));
    await eventually('the versions', async () => (await page.getByTestId('versions').getByRole('row').count()) === 3);
    await page.evaluate(`document.querySelector('[data-testid="pin-1"]').disabled = false`);
    await page.getByTestId('pin-1').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason (required)').fill('forced');
    await dialog.getByRole('button', { name: 'Pin', exact: true }).click();
    await eventually('the refusal in the dialog', async () => ((await dialog.getByRole('alert').textContent().catch(() => '')) ?? '').includes('PERMISSION_DENIED (403): permission denied: "carl" may not operate on topic "fraud-model"'));
    const status = await page.evaluate(
      `fetch('../v1/operator/Pin', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + sessionStorage.getItem('imprint-console-token') }, body: JSON.stringify({ topic: 'fraud-model', version: '1', reason: 'forced' }) }).then((r) => r.status)`,
    );
    expect(status).toBe(403);
    expect(await f.admin.listPins('fraud-model')).toEqual([]);
    expect(f.subs.get('s1')?.current).toBe('weights v2');
    // Chromium logs each refused request as a console error: those two, and nothing else.
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 403 (Forbidden)', 'console: Failed to load resource: the server responded with a status of 403 (Forbidden)']);
  });

  it('an operator may pin and unpin but not add scopes; it sees the consumers', async () => {
    const { page, errors } = await openConsole(browser, topicUrl(), await token('olga'));
    await eventually('the versions', async () => (await page.getByTestId('versions').getByRole('row').count()) === 3);
    expect(await page.getByTestId('access').textContent()).toBe('olga: consume, inspect, operate');
    expect(await page.getByTestId('pin-1').isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Add scope to v1' }).isDisabled()).toBe(true);
    await eventually('the consumers', async () => ((await page.getByTestId('consumers-summary').textContent().catch(() => '')) ?? '').includes('v2 on 1'));
    expect(errors).toEqual([]);
  });
});
