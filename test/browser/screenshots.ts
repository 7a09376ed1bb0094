/**
 * `npm run screenshots`: the web console's main pages as PNGs in docs/console/ (the README shows
 * them), taken in headless Chromium from a real server with real polling subscribers: the topic
 * list, a topic's page (a pin, consumers in three groups, the chart, versions, history), the pin
 * dialog, and a running rollout's step timeline.
 */
import fs from 'node:fs';
import path from 'node:path';
import { eventually } from '../access-calls.js';
import { openConsole, publish, rolloutPolicy, scorer, startFleet } from './harness.js';
import { launchChromium } from '../../scripts/chromium.js';

const OUT = path.resolve('docs', 'console');
fs.mkdirSync(OUT, { recursive: true });

const browser = await launchChromium();
const f = await startFleet();
try {
  // 1. Topics, versions, consumers.
  await f.admin.createTopic({ name: 'fraud-model', owner: 'trust-team', description: 'card fraud scores', expectEveryMs: 86_400_000 });
  for (const v of ['v1', 'v2', 'v3']) await publish(f.admin, 'fraud-model', `weights ${v}`);
  await f.admin.createTopic({ name: 'geo-ip', owner: 'edge', description: 'IP to region table' });
  await publish(f.admin, 'geo-ip', 'table 1');
  await f.follow('fraud-model', [scorer('s1'), scorer('s2'), scorer('s3', 'c2', 'us-east-1'), { app: 'checkout', cluster: 'c1', region: 'eu-west-1', nodeId: 'k1', labels: {} }]);
  await f.admin.pin('fraud-model', 2n, { scope: { app: 'checkout' }, reason: 'v3 raises false positives at checkout', createdBy: 'oncall-ana' });
  await eventually('checkout on v2', async () => f.subs.get('k1')?.current === 'weights v2');
  // 2. A rollout on its first step.
  await f.admin.createTopic({ name: 'ranker', owner: 'search', description: 'search ranking model' });
  await publish(f.admin, 'ranker', 'ranker v1');
  await f.admin.updateTopic('ranker', { rolloutPolicy: rolloutPolicy('cluster=canary 30m gates=consumers; region=us-east-1 1h gates=consumers; * 2h') });
  await f.follow('ranker', [scorer('canary-1', 'canary'), scorer('main-1', 'main', 'us-east-1'), scorer('main-2', 'main')]);
  await publish(f.admin, 'ranker', 'ranker v2');
  await eventually('the canary on ranker v2', async () => f.subs.get('canary-1')?.current === 'ranker v2');

  // 3. The pages.
  const shot = async (name: string, url: string, ready: string, act?: (p: import('playwright-core').Page) => Promise<void>) => {
    const { page, errors } = await openConsole(browser, url);
    await page.waitForSelector(ready, { timeout: 60_000 });
    if (url.includes('#/topics/')) await page.waitForSelector('.uplot', { timeout: 60_000 });
    await act?.(page);
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: !act });
    if (errors.length) throw new Error(`${name}: ${errors.join('; ')}`);
    await page.context().close();
    console.log(`docs/console/${name}.png`);
  };
  await shot('topics', f.consoleUrl, 'tbody tr td:nth-child(6):not(:empty)');
  await shot('topic', `${f.consoleUrl}#/topics/fraud-model`, '[data-testid="consumer-groups"]');
  await shot('pin-dialog', `${f.consoleUrl}#/topics/fraud-model`, '[data-testid="pin-1"]', async (page) => {
    await page.getByTestId('pin-1').click();
    await page.getByLabel('Reason (required)').fill('v3 misbehaves for everyone');
  });
  await shot('rollout', `${f.consoleUrl}#/topics/ranker`, '[data-testid="rollout-state"]');
} finally {
  await browser.close();
  await f.stop();
}
