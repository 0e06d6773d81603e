/**
 * @module
 * The edge's status page (`GET /`), rendered on the server with Hono JSX for
 * a person at the device: the pipeline and its version, each model with its
 * backend, sha and warm-up, throughput and latency over the last minutes (an
 * SVG chart), the recent inferences, the inference log's size against its
 * cap, and Ops sync. No script: it reloads itself (meta refresh).
 */
import type { ActivitySeries, RecentInference } from "./activity.ts";
import { ActivityChart } from "./activity_chart.tsx";
import { Badge, bytes, clock, count, Page } from "./page_layout.tsx";
import { ago } from "../time_ago.ts";
import type { LogWriterStatus } from "../logs/mod.ts";
import type { OpsSyncStatus } from "../ops/agent.ts";
import type { ModelStatus, PipelineStatus } from "../pipeline/manager.ts";

/** Seconds between reloads of the page. */
export const STATUS_REFRESH_SECONDS = 5;

/** Everything the page shows, read when it is asked for. */
export interface StatusView {
  now: number;
  ternVersion: string;
  pipeline: {
    name?: string;
    version?: string;
    status: PipelineStatus;
    error?: string;
    /** PIPELINE_URL followed (absent: the built-in demo). */
    url?: string;
    /** A version that failed to replace the one serving. */
    updateError?: string;
  };
  models: readonly ModelStatus[];
  /** Absent with METRICS=false. */
  activity?: { requests: number; rows: number; recent: RecentInference[]; series: ActivitySeries };
  /** Absent with LOG_DURABILITY=off. */
  log?: LogWriterStatus;
  /** Absent without EDGE_BUNDLE. */
  ops?: { status: Readonly<OpsSyncStatus>; backlog: number | null };
}

const STATUS_KIND = { Running: "ok", Loading: "warn", Error: "bad" } as const;

/** The whole page. */
export function StatusPage({ view }: { view: StatusView }) {
  const p = view.pipeline;
  return (
    <Page
      title="tern"
      subtitle={
        <>
          <span id="pipeline-name">{p.name ?? "no pipeline yet"}</span>{" "}
          <Badge kind={STATUS_KIND[p.status]}>
            <span id="pipeline-status">{p.status}</span>
          </Badge>
        </>
      }
      refreshSeconds={STATUS_REFRESH_SECONDS}
      footer={`tern ${view.ternVersion} · ${clock(view.now)} · this page reloads every ${STATUS_REFRESH_SECONDS} s · ` +
        "JSON: /pipelines, /models, /logs/status, /metrics, /v2"}
    >
      <PipelineSection view={view} />
      <ActivitySection view={view} />
      <LogSection view={view} />
      <OpsSection view={view} />
      <RecentSection view={view} />
    </Page>
  );
}

function PipelineSection({ view }: { view: StatusView }) {
  const p = view.pipeline;
  return (
    <section class="wide">
      <h2>Pipeline</h2>
      <dl>
        <dt>version</dt>
        <dd>
          <code id="pipeline-version">{p.version ?? "-"}</code>
        </dd>
        <dt>source</dt>
        <dd id="pipeline-url">{p.url || "built-in demo"}</dd>
        {p.error && (
          <>
            <dt>error</dt>
            <dd class="bad-text">{p.error}</dd>
          </>
        )}
        {p.updateError && (
          <>
            <dt>last update</dt>
            <dd>failed: {p.updateError}</dd>
          </>
        )}
      </dl>
      <table style="margin-top:10px">
        <thead>
          <tr>
            <th>model</th>
            <th>status</th>
            <th>backend</th>
            <th>sha256</th>
            <th>version</th>
            <th>warm-up (median per run)</th>
          </tr>
        </thead>
        <tbody>
          {view.models.map((m) => (
            <tr data-model={m.name}>
              <td class="name">{m.name}</td>
              <td>
                <Badge kind={STATUS_KIND[m.status]}>{m.status}</Badge>
              </td>
              <td class="backend">{m.loaded?.backend ?? "-"}</td>
              <td class="sha" title={m.sha256}>
                <code>{m.sha256.slice(0, 12)}</code>
              </td>
              <td class="version">
                <code>{m.version}</code>
              </td>
              <td class="warmup">{warmup(m)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** "native 0.008 ms · wasm 0.017 ms", the chosen backend first; "-" when not timed. */
function warmup(m: ModelStatus): string {
  const w = m.loaded?.warmupMs;
  if (m.error) return m.error;
  if (!w || Object.keys(w).length === 0) return "-";
  const chosen = m.loaded?.backend;
  return Object.entries(w)
    .sort(([a], [b]) => (a === chosen ? -1 : b === chosen ? 1 : a.localeCompare(b)))
    .map(([backend, ms]) => `${backend} ${ms < 1 ? ms.toPrecision(2) : ms.toFixed(1)} ms`)
    .join(" · ");
}

function ActivitySection({ view }: { view: StatusView }) {
  const a = view.activity;
  if (!a) {
    return (
      <section class="wide">
        <h2>Throughput and latency</h2>
        <p class="muted">Not measured: METRICS=false.</p>
      </section>
    );
  }
  const minutes = Math.round((a.series.requests.length * a.series.bucketMs) / 60_000);
  return (
    <section class="wide">
      <h2>
        Throughput and latency <span class="muted">(last {minutes} min, {a.series.bucketMs / 1000} s intervals)</span>
      </h2>
      <dl style="margin-bottom:8px">
        <dt>inferences since start</dt>
        <dd id="inferences">{count(a.requests)}</dd>
        <dt>rows since start</dt>
        <dd id="rows">{count(a.rows)}</dd>
      </dl>
      <ActivityChart series={a.series} />
    </section>
  );
}

function LogSection({ view }: { view: StatusView }) {
  const log = view.log;
  if (!log) {
    return (
      <section>
        <h2>Inference log</h2>
        <p class="muted">Off (LOG_DURABILITY=off).</p>
      </section>
    );
  }
  const share = log.capBytes ? Math.min(1, log.usedBytes / log.capBytes) : undefined;
  return (
    <section>
      <h2>Inference log</h2>
      <dl>
        <dt>storage used</dt>
        <dd>
          <span id="log-used" data-bytes={String(log.usedBytes)}>{bytes(log.usedBytes)}</span>
          {log.capBytes
            ? (
              <>
                {" of "}
                <span id="log-cap" data-bytes={String(log.capBytes)}>{bytes(log.capBytes)}</span>
                {` (${Math.round(share! * 100)} %)`}
              </>
            )
            : <span class="muted">&nbsp;(no cap: LOCAL_INFERENCE_STORAGE unset)</span>}
          {share !== undefined && (
            <div class="bar">
              <div style={`width:${(share * 100).toFixed(1)}%`} />
            </div>
          )}
        </dd>
        <dt>durability</dt>
        <dd>{log.durability}</dd>
        <dt>rows committed since start</dt>
        <dd id="log-committed">{count(log.committedRows)}</dd>
        <dt>rows queued</dt>
        <dd id="log-pending">{count(log.pendingRows)}</dd>
        <dt>rows evicted by the cap</dt>
        <dd id="log-evicted">{count(log.evictedRows)}</dd>
        {log.lostRows > 0 && (
          <>
            <dt>rows lost</dt>
            <dd id="log-lost">{count(log.lostRows)}</dd>
          </>
        )}
      </dl>
    </section>
  );
}

function OpsSection({ view }: { view: StatusView }) {
  const ops = view.ops;
  if (!ops) {
    return (
      <section>
        <h2>Ops sync</h2>
        <p class="muted">Off: no EDGE_BUNDLE.</p>
      </section>
    );
  }
  const s = ops.status;
  const [kind, word] = s.refused
    ? (["bad", `refused (${s.refused})`] as const)
    : s.lastError
    ? (["warn", "retrying"] as const)
    : s.lastContact === null
    ? (["idle", "connecting"] as const)
    : (["ok", "in sync"] as const);
  return (
    <section>
      <h2>
        Ops sync{" "}
        <Badge kind={kind}>
          <span id="ops-state">{word}</span>
        </Badge>
      </h2>
      <dl>
        <dt>edge</dt>
        <dd id="ops-edge">{s.edgeName}</dd>
        <dt>Ops</dt>
        <dd>{s.opsHost}</dd>
        <dt>last contact</dt>
        <dd id="ops-last-contact">{ago(s.lastContact, view.now)}</dd>
        <dt>last upload</dt>
        <dd id="ops-last-upload">{ago(s.lastUpload, view.now)}</dd>
        <dt>backlog (rows not yet uploaded)</dt>
        <dd id="ops-backlog">{ops.backlog === null ? "-" : count(ops.backlog)}</dd>
        <dt>rows uploaded since start</dt>
        <dd id="ops-uploaded">{count(s.uploadedRows)}</dd>
        {s.lastError && (
          <>
            <dt>last error</dt>
            <dd>{s.lastError}</dd>
          </>
        )}
      </dl>
    </section>
  );
}

function RecentSection({ view }: { view: StatusView }) {
  const recent = view.activity?.recent ?? [];
  return (
    <section class="wide">
      <h2>Recent inferences</h2>
      {recent.length === 0 ? <p class="muted">None yet.</p> : (
        <table>
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>pipeline</th>
              <th>model</th>
              <th class="num">rows</th>
              <th class="num">latency</th>
            </tr>
          </thead>
          <tbody>
            {recent.map((r) => (
              <tr class="recent">
                <td>{clock(r.time)}</td>
                <td>{r.pipeline}</td>
                <td>{r.model}</td>
                <td class="num">{count(r.rows)}</td>
                <td class="num">{r.ms < 1 ? `${(r.ms * 1000).toFixed(0)} µs` : `${r.ms.toFixed(2)} ms`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
