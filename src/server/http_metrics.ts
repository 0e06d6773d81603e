/**
 * @module
 * What the edge's and the hub's metrics share (src/server/metrics.ts,
 * src/hub/metrics.ts): requests and their latency by method, route pattern
 * and status, error replies by code (a Hono middleware), and the process's
 * memory and start time. Route labels are the route patterns
 * (`/pipelines/:name`), never raw paths, so a client cannot grow the series;
 * a path no route takes is `unmatched`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { Gauge, type Registry } from "prom-client";
import { HotCounter, HotHistogram } from "./hot_metrics.ts";
import { TernError } from "../errors.ts";

/** Latency buckets in seconds: 0.1 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** A histogram child. */
export type Observer = { observe(v: number): void };
/** A counter child. */
export type Incrementer = { inc(v?: number): void };

/** Request counts, latency and errors of one app, in `registry`. */
export class HttpMetrics {
  readonly #requests: HotCounter;
  readonly #duration: HotHistogram;
  readonly #errors: HotCounter;
  /** route → method → status → children (made once: `labels` serialises its values to look the child up). */
  readonly #children = new Map<string, Map<string, Map<number, { count: Incrementer; duration: Observer }>>>();
  readonly #errorChildren = new Map<string, Incrementer>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#requests = new HotCounter({
      name: "tern_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.#duration = new HotHistogram({
      name: "tern_http_request_duration_seconds",
      help: "Time from a request's arrival to its reply's head, by method and route pattern",
      labelNames: ["method", "route"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#errors = new HotCounter({
      name: "tern_errors_total",
      help: "Error replies by their code (docs/api.md#errors)",
      labelNames: ["code"],
      registers,
    });
  }

  /** Counts and times every request; must come before every other middleware. */
  readonly middleware: MiddlewareHandler = async (c, next) => {
    const t0 = performance.now();
    await next();
    const seconds = (performance.now() - t0) / 1000;
    const status = c.res.status;
    const method = c.req.method;
    const route = routeOf(c);
    let byMethod = this.#children.get(route);
    if (!byMethod) this.#children.set(route, byMethod = new Map());
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, byStatus = new Map());
    let children = byStatus.get(status);
    if (!children) {
      children = {
        count: this.#requests.labels(method, route, String(status)),
        duration: this.#duration.labels(method, route),
      };
      byStatus.set(status, children);
    }
    children.count.inc();
    children.duration.observe(seconds);
    const code = status >= 400 ? errorCode(c.error, status) : undefined;
    if (code !== undefined) {
      let errors = this.#errorChildren.get(code);
      if (!errors) this.#errorChildren.set(code, errors = this.#errors.labels(code));
      errors.inc();
    }
  };
}

/** The process's memory (`tern_process_memory_bytes{kind}`, `process_resident_memory_bytes`) and start time. */
export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  new Gauge({
    name: "tern_process_memory_bytes",
    help: "Memory of the tern process: rss (resident), heap_total and heap_used (JavaScript), external",
    labelNames: ["kind"],
    registers,
    collect() {
      const m = Deno.memoryUsage();
      this.labels("rss").set(m.rss);
      this.labels("heap_total").set(m.heapTotal);
      this.labels("heap_used").set(m.heapUsed);
      this.labels("external").set(m.external);
    },
  });
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  const started = Date.now() / 1000 - performance.now() / 1000;
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since the epoch, in seconds",
    registers,
    collect() {
      this.set(started);
    },
  });
}

/** The route pattern that answered, or `unmatched` (404, 405). */
function routeOf(c: Context): string {
  const route = matchedRoutes(c)[c.req.routeIndex];
  return route && route.method !== "ALL" ? route.path : "unmatched";
}

/**
 * The `code` of an error reply: the error's own, else the one its status stands for; undefined for a 4xx that
 * answers a question (V2's "not ready" is a 400 `{"ready": false}`, not an error).
 */
function errorCode(err: unknown, status: number): string | undefined {
  if (err instanceof TernError) return err.code;
  if (err) return "internal";
  switch (status) {
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : undefined;
  }
}
