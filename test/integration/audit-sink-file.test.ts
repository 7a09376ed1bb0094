/** The AuditSink conformance suite on the file sink (JSON lines in a temporary directory). */
import fs from 'node:fs';
import path from 'node:path';
import { FileAuditSink } from '../../server/audit/file.js';
import { auditSinkConformance } from '../conformance/audit-sink.js';
import { tempDir } from '../helpers.js';

auditSinkConformance('file', async () => {
  const dir = tempDir('imprint-audit-conformance-');
  const sink = new FileAuditSink({ file: path.join(dir, 'audit', 'events.jsonl') });
  return {
    sink,
    visible: () => Promise.resolve(), // flush() has written the lines; reads open the file anew
    async cleanup() {
      await sink.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

// The same suite with the file rotated every 64 KiB: the summary answers consumers, moves come from several files.
auditSinkConformance('file rotated every 64 KiB', async () => {
  const dir = tempDir('imprint-audit-conformance-');
  const sink = new FileAuditSink({ file: path.join(dir, 'audit', 'events.jsonl'), maxFileBytes: 64 * 1024, keepFiles: 10_000 });
  return {
    sink,
    visible: () => Promise.resolve(),
    async cleanup() {
      await sink.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
