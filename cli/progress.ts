/** Progress for long transfers: a bar on a terminal, a summary line always. */
import cliProgress from 'cli-progress';
import { bytes } from './format.js';

/** Transfers below this size get no bar. */
const BAR_FROM_BYTES = 4 * 1024 * 1024;

export interface Progress {
  update(done: number, total?: number): void;
  /** Stops the bar and returns "12.0 MiB in 0.4 s (30.0 MiB/s)". */
  finish(done: number): string;
}

export function startProgress(label: string, total: number | undefined, enabled: boolean): Progress {
  const started = performance.now();
  const tty = enabled && process.stderr.isTTY && (total === undefined || total >= BAR_FROM_BYTES);
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {doneText} of {totalText} | {rate}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total ?? 0, 0, { doneText: bytes(0), totalText: total === undefined ? '?' : bytes(total), rate: '' });
  return {
    update(done, t) {
      if (!bar) return;
      if (t !== undefined) bar.setTotal(t);
      const secs = (performance.now() - started) / 1000;
      bar.update(done, { doneText: bytes(done), totalText: bytes(t ?? total ?? done), rate: secs > 0 ? `${bytes(done / secs)}/s` : '' });
    },
    finish(done) {
      bar?.stop();
      const secs = (performance.now() - started) / 1000;
      return `${bytes(done)} in ${secs.toFixed(2)} s (${bytes(secs > 0 ? done / secs : done)}/s)`;
    },
  };
}
