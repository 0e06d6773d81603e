/**
 * @module
 * The status page's chart, drawn on the server as SVG: requests per second
 * in each interval (bars, left axis) and their mean latency (line and dots,
 * right axis), oldest on the left, now on the right.
 */
import type { ActivitySeries } from "./activity.ts";

const W = 1000;
const H = 200;
const PAD = { left: 44, right: 52, top: 12, bottom: 24 };

/** A ceiling that reads well on an axis: 1, 2, 5 × 10^k. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function label(v: number): string {
  return v >= 100 ? String(Math.round(v)) : v >= 1 ? v.toFixed(1).replace(/\.0$/, "") : v.toPrecision(2);
}

/** Throughput and latency over `series`' intervals. */
export function ActivityChart(props: { series: ActivitySeries }) {
  const { requests, meanMs, bucketMs } = props.series;
  const n = requests.length;
  const perSecond = requests.map((r) => r / (bucketMs / 1000));
  const rateMax = niceMax(Math.max(...perSecond));
  const latencies = meanMs.filter((v): v is number => v !== null);
  const latMax = niceMax(latencies.length ? Math.max(...latencies) : 1);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / n;
  const x = (i: number) => PAD.left + i * slot;
  const yRate = (v: number) => PAD.top + plotH - (v / rateMax) * plotH;
  const yLat = (v: number) => PAD.top + plotH - (v / latMax) * plotH;
  const points = meanMs.flatMap((v, i) => v === null ? [] : [[x(i) + slot / 2, yLat(v)] as const]);
  const minutes = Math.round((n * bucketMs) / 60_000);
  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      width="100%"
      role="img"
      aria-label={`requests per second and mean latency, last ${minutes} minutes`}
    >
      <rect x={PAD.left} y={PAD.top} width={plotW} height={plotH} fill="#fafbfc" stroke="#e4e7ec" />
      {[0.5, 1].map((f) => (
        <line
          x1={PAD.left}
          x2={PAD.left + plotW}
          y1={PAD.top + plotH - f * plotH}
          y2={PAD.top + plotH - f * plotH}
          stroke="#e4e7ec"
        />
      ))}
      {perSecond.map((v, i) =>
        v > 0
          ? (
            <rect
              class="rate"
              x={x(i) + 1}
              y={yRate(v)}
              width={Math.max(1, slot - 2)}
              height={PAD.top + plotH - yRate(v)}
              fill="#2f5bd3"
              opacity="0.75"
            >
              <title>{`${label(v)} req/s`}</title>
            </rect>
          )
          : ""
      )}
      {points.length > 1 && (
        <polyline
          points={points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")}
          fill="none"
          stroke="#b54708"
          stroke-width="2"
        />
      )}
      {points.length > 0 && (
        <path
          d={points.map(([px, py]) => `M${(px - 2.5).toFixed(1)},${py.toFixed(1)}a2.5,2.5 0 1,0 5,0a2.5,2.5 0 1,0 -5,0`)
            .join("")}
          fill="#b54708"
        />
      )}
      <text x={PAD.left - 6} y={PAD.top + 10} text-anchor="end">{label(rateMax)}</text>
      <text x={PAD.left - 6} y={PAD.top + plotH} text-anchor="end">0</text>
      <text x={PAD.left - 6} y={H - 6} text-anchor="end" style="fill:#2f5bd3">req/s</text>
      <text x={PAD.left + plotW + 6} y={PAD.top + 10}>{label(latMax)}</text>
      <text x={PAD.left + plotW + 6} y={PAD.top + plotH}>0</text>
      <text x={PAD.left + plotW + 6} y={H - 6} style="fill:#b54708">ms</text>
      <text x={PAD.left} y={H - 6}>{`−${minutes} min`}</text>
      <text x={PAD.left + plotW} y={H - 6} text-anchor="end">now</text>
    </svg>
  );
}
