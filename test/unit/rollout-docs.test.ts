/**
 * docs/ROLLOUTS.md against the code: its bucket vectors are what core's rolloutBucket computes,
 * the 5% count it states is the count, and its text-form examples parse and format back to
 * themselves.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatRolloutPolicy, formatRolloutSteps, parseRolloutSteps, rolloutBucket, validateRolloutPolicy } from '../../core/index.js';

const doc = fs.readFileSync('docs/ROLLOUTS.md', 'utf8');

describe('docs/ROLLOUTS.md', () => {
  it("the bucket vectors are rolloutBucket's", () => {
    const section = doc.slice(doc.indexOf('### Vectors'), doc.indexOf('## The driver'));
    const rows = [...section.matchAll(/^\| (`[^`]*`|\(empty\)) \| (`[^`]*`|\(empty\)) \| (\d+) \|$/gm)].map((m) => {
      const text = (cell: string) => (cell === '(empty)' ? '' : cell.slice(1, -1));
      return { topic: text(m[1] as string), node: text(m[2] as string), bucket: Number(m[3]) };
    });
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const r of rows) expect({ ...r, bucket: rolloutBucket(r.topic, r.node) }).toEqual(r);
    const count = Number(/the 10000 node ids `node-0` to `node-9999`, (\d+) are in a 5% step of `features`/.exec(section.replace(/\s+/g, ' '))?.[1]);
    let inFive = 0;
    for (let i = 0; i < 10_000; i++) if (rolloutBucket('features', `node-${i}`) < 500) inFive++;
    expect(inFive).toBe(count);
  });

  it('the text-form examples parse, and format back to themselves', () => {
    const blocks = [...doc.matchAll(/```\n(.+; .+)\n```/g)].map((m) => m[1] as string);
    expect(blocks).toHaveLength(2);
    const [steps, policy] = blocks as [string, string];
    expect(formatRolloutSteps(parseRolloutSteps(steps))).toBe(steps);
    const [stepText, ...settings] = policy.split('  ');
    const p = validateRolloutPolicy({
      steps: parseRolloutSteps(stepText ?? ''),
      minHoldingPercent: 95,
      maxRejections: 2,
      webhookUrl: 'https://ci.example.com/gate',
    });
    expect(settings).toEqual(['min-holding=95%', 'max-rejections=2', 'webhook=https://ci.example.com/gate']);
    expect(formatRolloutPolicy(p)).toBe(policy);
  });
});
