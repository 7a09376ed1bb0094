/**
 * Consumers per version over time, drawn with uPlot. The series come from ListMoves (the
 * consumer nodes' moves of the last 24 hours, newest first, at most 1000) walked back from
 * what the nodes hold now (DescribeTopic's counts): before a move from A to B there was one
 * more node on A and one fewer on B. With more moves than one page the chart starts at the
 * oldest move it got, and says so.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { ConsumerMove, VersionHeld } from './wire.js';

const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bc4c00'];

export interface Series {
  readonly times: number[];
  readonly versions: string[];
  readonly counts: number[][];
}

/** The counts per version at each move (oldest first) and now, from the moves (newest first) and the counts now. */
export function seriesOf(moves: readonly ConsumerMove[], now: readonly VersionHeld[], nowMs: number): Series {
  const counts = new Map<string, number>(now.map((v) => [v.version, v.nodeCount]));
  for (const m of moves) {
    for (const v of [m.fromVersion, m.toVersion]) if (v !== '0' && !counts.has(v)) counts.set(v, 0);
  }
  const versions = [...counts.keys()].sort((a, b) => Number(b) - Number(a)).slice(0, COLORS.length);
  const points: { t: number; c: Map<string, number> }[] = [{ t: nowMs, c: new Map(counts) }];
  for (const m of moves) {
    // After the move as it is at this point; before it, the node held fromVersion.
    points.push({ t: Number(m.atMs), c: new Map(counts) });
    counts.set(m.toVersion, (counts.get(m.toVersion) ?? 0) - 1);
    if (m.fromVersion !== '0') counts.set(m.fromVersion, (counts.get(m.fromVersion) ?? 0) + 1);
  }
  points.reverse();
  return { times: points.map((p) => p.t / 1000), versions, counts: versions.map((v) => points.map((p) => Math.max(0, p.c.get(v) ?? 0))) };
}

export function ConsumersChart({ series, width = 720 }: { series: Series; width?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const plot = new uPlot(
      {
        width,
        height: 220,
        series: [{}, ...series.versions.map((v, i) => ({ label: `v${v}`, stroke: COLORS[i] ?? '#555', width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) }))],
        axes: [{}, { label: 'nodes' }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      },
      [series.times, ...series.counts],
      ref.current,
    );
    return () => plot.destroy();
  }, [series, width]);
  return <div ref={ref} role="img" aria-label={`Consumers per version over time: ${series.versions.map((v, i) => `v${v} now ${series.counts[i]?.at(-1) ?? 0}`).join(', ')}`} />;
}
