/**
 * ops/prometheus/alerts.yml, checked by a real promtool (built with the Go toolchain once,
 * scripts/tools.ts; IMPRINT_PROMTOOL names an existing one): `promtool check rules` with lint
 * findings fatal, `promtool check config` of the compose stack's prometheus.yml (which loads
 * them), and `promtool test rules alerts.test.yml`, whose unit tests fire every alert
 * from synthetic series and see it silent before and after. The test file is held to that:
 * every alert has a test where it fires and a later one, in the same series, where it has
 * cleared. Every alert carries a severity, a summary, a description and its runbook link.
 * Broken copies of the rules show that promtool's verdicts are read.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensurePromtool } from '../../scripts/tools.js';
import { ALERT_TESTS_FILE, ALERTS_FILE, alertRules } from '../ops-files.js';

const run = promisify(execFile);
const RULES_DIR = path.dirname(ALERTS_FILE);

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `promtool ARGS`: exit code and both outputs (promtool prints its verdicts on either). */
async function promtool(bin: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(bin, args, { cwd, timeout: 120_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const rulesText = fs.readFileSync(ALERTS_FILE, 'utf8');
const testsText = fs.readFileSync(ALERT_TESTS_FILE, 'utf8');
const rules = alertRules(rulesText);

describe('ops/prometheus/alerts.yml', () => {
  let bin: string;
  let tmp: string;
  /** promtool on a copy of the rules (and their tests) changed by `edit`. */
  const onCopy = async (edit: (rules: string) => string, args: string[]) => {
    const dir = fs.mkdtempSync(path.join(tmp, 'copy-'));
    fs.writeFileSync(path.join(dir, 'alerts.yml'), edit(rulesText));
    fs.writeFileSync(path.join(dir, 'alerts.test.yml'), testsText);
    return promtool(bin, args, dir);
  };

  // A first build of promtool took 18 minutes here on 2 busy cores (scripts/tools.ts).
  beforeAll(async () => {
    bin = await ensurePromtool();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imprint-ops-rules-'));
  }, 35 * 60_000);
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('passes promtool check rules, lint findings fatal', async () => {
    const r = await promtool(bin, ['check', 'rules', '--lint=all', '--lint-fatal', 'alerts.yml'], RULES_DIR);
    expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.code).toBe(0);
  });

  it("passes promtool check config: the compose stack's Prometheus configuration, its rule files included", async () => {
    const r = await promtool(bin, ['check', 'config', '--lint=all', '--lint-fatal', 'prometheus.yml'], RULES_DIR);
    expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.code).toBe(0);
  });

  it("passes promtool test rules: every alert's unit tests", async () => {
    const r = await promtool(bin, ['test', 'rules', 'alerts.test.yml'], RULES_DIR);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('has a test for every alert where it fires and a later one where it has cleared', () => {
    const doc: unknown = parse(testsText);
    const tests = isRec(doc) && Array.isArray(doc['tests']) ? doc['tests'] : [];
    const fires = new Map<string, number[]>();
    const cleared = new Set<string>();
    for (const t of tests) {
      const checks = isRec(t) && Array.isArray(t['alert_rule_test']) ? t['alert_rule_test'] : [];
      const minutes = (v: unknown) => Number(/^(\d+)m$/.exec(String(v))?.[1] ?? NaN);
      const firedAt = new Map<string, number>();
      for (const c of checks) {
        if (!isRec(c)) continue;
        const name = String(c['alertname']);
        const at = minutes(c['eval_time']);
        const exp = Array.isArray(c['exp_alerts']) ? c['exp_alerts'] : [];
        if (exp.length > 0) {
          fires.set(name, [...(fires.get(name) ?? []), at]);
          firedAt.set(name, Math.min(firedAt.get(name) ?? Infinity, at));
        } else if ((firedAt.get(name) ?? Infinity) < at) cleared.add(name);
      }
    }
    const names = rules.map((r) => r.alert);
    expect(names.filter((n) => !fires.has(n)), 'alerts no test fires').toEqual([]);
    expect(names.filter((n) => !cleared.has(n)), 'alerts no test sees clear after firing').toEqual([]);
    expect([...fires.keys()].filter((n) => !names.includes(n)), 'tests of alerts that do not exist').toEqual([]);
  });

  it('gives every alert a severity, a summary, a description and its runbook anchor', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const r of rules) {
      expect(['critical', 'warning'], `${r.alert} severity`).toContain(r.labels['severity']);
      expect(String(r.annotations['summary'] ?? ''), `${r.alert} summary`).not.toBe('');
      expect(String(r.annotations['description'] ?? ''), `${r.alert} description`).not.toBe('');
      expect(r.annotations['runbook_url'], `${r.alert} runbook_url`).toBe(`{{ $externalLabels.imprint_runbook_base }}docs/OPERATIONS.md#${r.alert.toLowerCase()}`);
    }
  });

  it('reads promtool: a rule that does not parse fails check rules', async () => {
    const r = await onCopy((t) => t.replace('expr: imprint_client_fallback_active == 1', 'expr: imprint_client_fallback_active == == 1'), ['check', 'rules', 'alerts.yml']);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/FAILED/);
  });

  it('reads promtool: a threshold changed fails the unit test of its alert', async () => {
    const r = await onCopy((t) => t.replace('imprint_consume_table_age_seconds > 60', 'imprint_consume_table_age_seconds > 600'), ['test', 'rules', 'alerts.test.yml']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('ImprintConsumeTableStale');
  });

  it('reads promtool: an alert that never clears fails its unit test', async () => {
    const r = await onCopy((t) => t.replace('expr: imprint_client_fallback_active == 1', 'expr: imprint_client_fallback_active >= 0'), ['test', 'rules', 'alerts.test.yml']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('ImprintClientFallbackActive');
  });
});
