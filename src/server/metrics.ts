/**
 * @module
 * The edge's Prometheus metrics, in a prom-client registry of this app's own
 * that writes them for `GET /metrics` (the per-request ones are hot_metrics.ts's):
 *
 * - every request (http_metrics.ts): `tern_http_requests_total{method,route,status}`,
 *   `tern_http_request_duration_seconds{method,route}` (until the reply's
 *   head), `tern_errors_total{code}` (the error's `code`);
 * - every inference (from `observe`, which also feeds the status page's `activity`): `tern_inference_requests_total` and
 *   `tern_inference_rows_total{pipeline,model}`,
 *   `tern_inference_duration_seconds{pipeline,model}` (decoding and every
 *   step), `tern_step_duration_seconds{pipeline,step,model,backend}`;
 * - read at each scrape from the state the app holds: the pipeline and its
 *   models (`tern_pipeline_info`, `tern_model_info`, `tern_pipeline_swaps_total`),
 *   the inference log's counters and size, Ops sync (backlog, last contact and
 *   upload), and the process's memory.
 */
import { Counter, Gauge, Registry } from "prom-client";
import { HotCounter, HotHistogram } from "./hot_metrics.ts";
import {
  HttpMetrics,
  type Incrementer,
  LATENCY_BUCKETS,
  type Observer,
  registerProcessMetrics,
} from "./http_metrics.ts";
import { Activity } from "./activity.ts";
import type { InferenceReply } from "../codec/reply.ts";
import type { LogWriterStatus } from "../logs/mod.ts";
import type { OpsSyncStatus } from "../ops/agent.ts";
import type { LoadedModel, LoadedPipeline } from "../pipeline/loaded.ts";
import type { PipelineManager } from "../pipeline/manager.ts";

/** What the metrics read at scrape time. */
export interface MetricsSources {
  pipelines: PipelineManager;
  /** The app's clock, ms since the epoch (the activity chart's intervals). */
  now: () => number;
  /** The inference log's counters (absent with LOG_DURABILITY=off). */
  logStatus?: () => Promise<LogWriterStatus>;
  /** Ops sync, when EDGE_BUNDLE is set. */
  ops?: () => Readonly<OpsSyncStatus> | undefined;
  /** Rows not yet uploaded to Ops (read only when `ops` gives a status). */
  backlog?: () => Promise<number>;
}

/** The series of one model served as a pipeline's last step. */
interface ModelSeries {
  requests: Incrementer;
  rows: Incrementer;
  duration: Observer;
}

/** One step's histogram children: its only model's, or each A/B variant's and `split` for a middle step. */
interface StepSeries {
  only?: Observer;
  byModel: Map<string, Observer>;
  split?: Observer;
}

/** The label sets of one pipeline version, made once (`labels` serialises its values to look the child up). */
interface PipelineSeries {
  models: Map<string, ModelSeries>;
  steps: StepSeries[];
}

/** The registry and the instruments of one edge app. */
export class EdgeMetrics {
  /** Written by `GET /metrics`. */
  readonly registry: Registry = new Registry();
  /** Counts and times every request (a middleware that must come before every other). */
  readonly http: HttpMetrics = new HttpMetrics(this.registry);
  /** Recent inferences and throughput for the status page. */
  readonly activity: Activity;
  readonly #sources: MetricsSources;
  readonly #inferences: HotCounter;
  readonly #rows: HotCounter;
  readonly #inferenceDuration: HotHistogram;
  readonly #stepDuration: HotHistogram;
  readonly #series = new WeakMap<LoadedPipeline, PipelineSeries>();
  #servedPipeline: LoadedPipeline | undefined;
  #swaps = 0;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    this.activity = new Activity(sources.now);
    const registers = [this.registry];
    this.#inferences = new HotCounter({
      name: "tern_inference_requests_total",
      help: "Inference requests served, by pipeline and the last step's model (any API: Wallaroo or V2)",
      labelNames: ["pipeline", "model"],
      registers,
    });
    this.#rows = new HotCounter({
      name: "tern_inference_rows_total",
      help: "Input rows inferred, by pipeline and the last step's model",
      labelNames: ["pipeline", "model"],
      registers,
    });
    this.#inferenceDuration = new HotHistogram({
      name: "tern_inference_duration_seconds",
      help: "Time to decode a request and run every step, by pipeline and the last step's model",
      labelNames: ["pipeline", "model"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#stepDuration = new HotHistogram({
      name: "tern_step_duration_seconds",
      help: "Time of one pipeline step, by pipeline, step index, model and backend",
      labelNames: ["pipeline", "step", "model", "backend"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#scrapeGauges(registers);
  }

  /** Records one served inference (called by the inference routes once the pipeline has run). */
  readonly observe = (pipeline: LoadedPipeline, reply: InferenceReply): void => {
    this.#noteServing(pipeline);
    let series = this.#series.get(pipeline);
    if (!series) this.#series.set(pipeline, series = this.#newSeries(pipeline));
    const model = reply.modelName;
    let m = series.models.get(model);
    if (!m) {
      m = {
        requests: this.#inferences.labels(pipeline.name, model),
        rows: this.#rows.labels(pipeline.name, model),
        duration: this.#inferenceDuration.labels(pipeline.name, model),
      };
      series.models.set(model, m);
    }
    const ns = reply.elapsedNs;
    let total = 0;
    for (let i = 0; i < ns.length; i++) total += ns[i];
    m.requests.inc();
    m.rows.inc(reply.input.rows);
    m.duration.observe(total / 1e9);
    this.activity.record(reply.time, pipeline.name, model, reply.input.rows, total / 1e9);
    const last = ns.length - 2;
    for (let i = 0; i < series.steps.length && i + 1 < ns.length; i++) {
      const step = series.steps[i];
      // An A/B step is known by the model served when it is the last step.
      const observer = step.only ?? (i === last ? step.byModel.get(model) : step.split);
      observer?.observe(ns[i + 1] / 1e9);
    }
  };

  /** Swaps seen so far: the serving pipeline changed since the last request or scrape looked. */
  get swaps(): number {
    this.#noteServing(this.#sources.pipelines.current);
    return this.#swaps;
  }

  #noteServing(p: LoadedPipeline | undefined): void {
    if (p === this.#servedPipeline || !p) return;
    if (this.#servedPipeline) this.#swaps++;
    this.#servedPipeline = p;
  }

  #newSeries(pipeline: LoadedPipeline): PipelineSeries {
    return {
      models: new Map(),
      steps: stepModels(pipeline).map((models, i) => {
        const step = String(i);
        const byModel = new Map(
          models.map((m) => [m.name, this.#stepDuration.labels(pipeline.name, step, m.name, m.backend)] as const),
        );
        if (models.length === 1) return { only: byModel.get(models[0].name), byModel };
        // An A/B step in the middle of a pipeline: which variant ran is not reported.
        return { byModel, split: this.#stepDuration.labels(pipeline.name, step, "(split)", "-") };
      }),
    };
  }

  /** Gauges and counters whose values are read at scrape time. */
  #scrapeGauges(registers: Registry[]): void {
    const s = this.#sources;
    const swaps = () => this.swaps;
    new Gauge({
      name: "tern_pipeline_info",
      help: "1 for the pipeline being served or loaded, labelled with its version and status",
      labelNames: ["pipeline", "version", "status"],
      registers,
      collect() {
        this.reset();
        const p = s.pipelines;
        if (p.name) this.labels(p.name, p.current?.version ?? "", p.status).set(1);
      },
    });
    new Gauge({
      name: "tern_model_info",
      help: "1 for each model of the pipeline, labelled with its version, sha256, backend and status",
      labelNames: ["pipeline", "model", "version", "sha256", "backend", "status"],
      registers,
      collect() {
        this.reset();
        const name = s.pipelines.name ?? "";
        for (const m of s.pipelines.models) {
          this.labels(name, m.name, m.version, m.sha256, m.loaded?.backend ?? "", m.status).set(1);
        }
      },
    });
    new Counter({
      name: "tern_pipeline_swaps_total",
      help: "Times a new pipeline version replaced the one serving, as seen at requests and scrapes",
      registers,
      collect() {
        this.reset();
        this.inc(swaps());
      },
    });
    if (s.logStatus) this.#logMetrics(s.logStatus, registers);
    if (s.ops) this.#opsMetrics(s.ops, s.backlog, registers);
    registerProcessMetrics(this.registry);
  }

  #logMetrics(logStatus: () => Promise<LogWriterStatus>, registers: Registry[]): void {
    // One status read per scrape, shared by the metrics below.
    let pending: Promise<LogWriterStatus> | undefined;
    const status = () => pending ??= logStatus().finally(() => queueMicrotask(() => pending = undefined));
    const counter = (name: string, help: string, pick: (s: LogWriterStatus) => number) =>
      new Counter({
        name,
        help,
        registers,
        async collect() {
          const value = pick(await status());
          this.reset();
          this.inc(value);
        },
      });
    const gauge = (name: string, help: string, pick: (s: LogWriterStatus) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(pick(await status()));
        },
      });
    counter("tern_log_rows_committed_total", "Inference log rows committed by this process", (s) => s.committedRows);
    counter("tern_log_commits_total", "Inference log transactions committed by this process", (s) => s.commits);
    counter(
      "tern_log_rows_evicted_total",
      "Inference log rows evicted by LOCAL_INFERENCE_STORAGE since the log was created",
      (s) => s.evictedRows,
    );
    counter(
      "tern_log_rows_lost_total",
      "Inference log rows given up after failed commits (async mode)",
      (s) => s.lostRows,
    );
    gauge("tern_log_rows_pending", "Inference log rows queued for the next commit", (s) => s.pendingRows);
    gauge("tern_log_bytes", "Bytes the inference log takes on disk (database and WAL)", (s) => s.usedBytes);
    gauge("tern_log_cap_bytes", "LOCAL_INFERENCE_STORAGE in bytes; 0 without a cap", (s) => s.capBytes ?? 0);
  }

  #opsMetrics(
    ops: () => Readonly<OpsSyncStatus> | undefined,
    backlog: (() => Promise<number>) | undefined,
    registers: Registry[],
  ): void {
    const seconds = (ms: number | null) => ms === null ? 0 : ms / 1000;
    const gauge = (name: string, help: string, pick: (s: Readonly<OpsSyncStatus>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const st = ops();
          this.set(st ? pick(st) : 0);
        },
      });
    new Gauge({
      name: "tern_ops_backlog_rows",
      help: "Inference log rows not yet acknowledged by Ops",
      registers,
      async collect() {
        this.set(ops() && backlog ? await backlog() : 0);
      },
    });
    new Counter({
      name: "tern_ops_uploaded_rows_total",
      help: "Log rows Ops acknowledged in this process",
      registers,
      collect() {
        this.reset();
        this.inc(ops()?.uploadedRows ?? 0);
      },
    });
    gauge(
      "tern_ops_last_upload_success_timestamp_seconds",
      "When Ops last acknowledged a page of the log, seconds since the epoch; 0: not in this process",
      (s) => seconds(s.lastUpload),
    );
    gauge(
      "tern_ops_last_contact_timestamp_seconds",
      "When Ops last answered this edge, seconds since the epoch; 0: never",
      (s) => seconds(s.lastContact),
    );
    gauge(
      "tern_ops_sync_ok",
      "1 while Ops sync works (the last request succeeded), 0 while it fails or after a refusal",
      (s) => s.refused || s.lastError ? 0 : 1,
    );
  }
}

/** The models that may run each step (one, or its A/B variants). */
function stepModels(pipeline: LoadedPipeline): LoadedModel[][] {
  return pipeline.steps.map((step) => step.variants.map((v) => v.model));
}
