/** The file audit sink: what it writes, in order, and what it drops when the disk falls behind or it is closed. */
import fs from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../server/audit/audit-sink.js';
import { FileAuditSink, readAuditFile } from '../../server/audit/file.js';
import { identity, tempDir } from '../helpers.js';

const poll = (i: number): AuditEvent => ({ kind: 'hold', atMs: 1_700_000_000_000 + i, topic: 'model', identity: identity({ app: 'scorer', nodeId: `n${i}` }), replica: 'r1', version: '1', previous: '0', moved: true, pinned: false });

describe('FileAuditSink', () => {
  it('writes every event of a burst, in order, as JSON lines', async () => {
    const file = path.join(tempDir(), 'audit', 'events.jsonl');
    const sink = new FileAuditSink({ file });
    for (let i = 0; i < 1000; i++) sink.record(poll(i));
    await sink.flush();
    const events = readAuditFile(file);
    expect(events.length).toBe(1000);
    expect(events.map((e) => (e.kind === 'hold' ? e.identity.nodeId : ''))).toEqual(Array.from({ length: 1000 }, (_, i) => `n${i}`));
    expect(sink.stats()).toEqual({ recorded: 1000, dropped: 0, written: 1000 });
    await sink.close();
  });

  it('drops and counts what would take it past maxBufferedBytes, and writes the rest', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    const sink = new FileAuditSink({ file, maxBufferedBytes: 2000 });
    const taken = Array.from({ length: 100 }, (_, i) => sink.record(poll(i)));
    const { recorded, dropped } = sink.stats();
    expect(dropped).toBeGreaterThan(0);
    // record() says which it took: the first ones, until the bound.
    expect(taken.filter(Boolean).length).toBe(recorded);
    expect(taken.indexOf(false)).toBe(recorded);
    expect(recorded + dropped).toBe(100);
    await sink.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').length).toBe(recorded);
  });

  it('counts events recorded after close as dropped, not written', async () => {
    const file = path.join(tempDir(), 'events.jsonl');
    const sink = new FileAuditSink({ file });
    expect(sink.record(poll(1))).toBe(true);
    await sink.close();
    expect(sink.record(poll(2))).toBe(false);
    expect(sink.stats()).toEqual({ recorded: 1, dropped: 1, written: 1 });
    expect(readAuditFile(file).length).toBe(1);
  });

  it('counts recorded, written and dropped events by reason in the Elasticsearch sink\'s metrics (sink="file")', async () => {
    const value = async (registry: Registry, name: string, labels: Record<string, string>) =>
      (await registry.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    // The disk falls behind: refused as buffer_full; closed: after_close.
    const registry = new Registry();
    const sink = new FileAuditSink({ file: path.join(tempDir(), 'events.jsonl'), maxBufferedBytes: 2000, registry });
    expect(await value(registry, 'imprint_audit_events_dropped_total', { sink: 'file', reason: 'write_failed' })).toBe(0);
    for (let i = 0; i < 100; i++) sink.record(poll(i));
    await sink.flush();
    const { recorded, dropped } = sink.stats();
    expect(await value(registry, 'imprint_audit_events_recorded_total', { sink: 'file' })).toBe(recorded);
    expect(await value(registry, 'imprint_audit_events_written_total', { sink: 'file' })).toBe(recorded);
    expect(await value(registry, 'imprint_audit_events_dropped_total', { sink: 'file', reason: 'buffer_full' })).toBe(dropped);
    await sink.close();
    sink.record(poll(101));
    expect(await value(registry, 'imprint_audit_events_dropped_total', { sink: 'file', reason: 'after_close' })).toBe(1);

    // A file that cannot be written (a full disk): nothing written; the lost event and what follows dropped as write_failed.
    const full = new Registry();
    const broken = new FileAuditSink({ file: '/dev/full', registry: full });
    expect(broken.record(poll(1))).toBe(true);
    await broken.flush();
    expect(broken.record(poll(2))).toBe(false);
    expect(await value(full, 'imprint_audit_events_written_total', { sink: 'file' })).toBe(0);
    expect(await value(full, 'imprint_audit_events_dropped_total', { sink: 'file', reason: 'write_failed' })).toBe(2);
    expect(broken.stats()).toEqual({ recorded: 0, dropped: 2, written: 0 });
    await broken.close().catch(() => {});
  });
});
