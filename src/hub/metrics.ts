/**
 * @module
 * The hub's Prometheus metrics (`GET /metrics` on `tern hub serve`): its
 * requests, latency and errors (src/server/http_metrics.ts, as the edge's),
 * the process's memory, and the fleet as the store holds it at scrape time:
 * edges by state, and per edge its backlog, rows and pages received and last
 * contact. The store is shared by every hub on one database, so each hub
 * reports the same fleet.
 */
import { Counter, Gauge, Registry } from "prom-client";
import { HttpMetrics, registerProcessMetrics } from "../server/http_metrics.ts";
import { type EdgeView, edgeView } from "./edges_view.ts";
import type { HubStore } from "./store.ts";

/** An edge's state on the fleet page and in `tern_hub_edges{state}`. */
export function edgeState(e: EdgeView, now: number): "not joined" | "in contact" | "silent" | "expired" {
  if (e.joined_at === null) return "not joined";
  if (e.session_expires_at !== null && e.session_expires_at < now) return "expired";
  // Silent: no contact for three default check-in intervals (15 min).
  return e.last_contact !== null && now - e.last_contact <= 15 * 60_000 ? "in contact" : "silent";
}

/** The hub's registry. */
export class HubMetrics {
  /** Written by `GET /metrics`. */
  readonly registry: Registry = new Registry();
  /** Counts and times every request (a middleware that must come before every other). */
  readonly http: HttpMetrics = new HttpMetrics(this.registry);

  constructor(store: HubStore, now: () => number) {
    registerProcessMetrics(this.registry);
    const registers = [this.registry];
    // One read of the fleet per scrape, shared by the metrics below.
    let pending: Promise<EdgeView[]> | undefined;
    const fleet = () =>
      pending ??= store.edges().then((edges) => edges.map(edgeView)).finally(() =>
        queueMicrotask(() => pending = undefined)
      );
    new Gauge({
      name: "tern_hub_edges",
      help: "Edges by state: not joined, in contact (within 15 min), silent, expired (no contact for 7 days)",
      labelNames: ["state"],
      registers,
      async collect() {
        const edges = await fleet();
        this.reset();
        for (const state of ["not joined", "in contact", "silent", "expired"]) this.labels(state).set(0);
        for (const e of edges) this.labels(edgeState(e, now())).inc();
      },
    });
    const perEdge = (name: string, help: string, pick: (e: EdgeView) => number | null, counter = false) => {
      const options = { name, help, labelNames: ["edge"], registers };
      const collect = async (metric: Gauge | Counter) => {
        const edges = await fleet();
        metric.reset();
        for (const e of edges) {
          const v = pick(e);
          if (v === null) continue;
          if (metric instanceof Gauge) metric.labels(e.name).set(v);
          else metric.labels(e.name).inc(v);
        }
      };
      if (counter) {
        new Counter({
          ...options,
          async collect() {
            await collect(this);
          },
        });
      } else {
        new Gauge({
          ...options,
          async collect() {
            await collect(this);
          },
        });
      }
    };
    perEdge(
      "tern_hub_edge_backlog_rows",
      "Log rows an edge reported not yet uploaded, at its last check-in",
      (e) => e.backlog_rows,
    );
    perEdge(
      "tern_hub_edge_evicted_rows",
      "Log rows an edge's storage cap evicted before it uploaded them (never to arrive), at its last check-in",
      (e) => e.evicted_rows,
    );
    perEdge("tern_hub_edge_rows_received_total", "Log rows stored for an edge", (e) => e.rows_received, true);
    perEdge("tern_hub_edge_pages_received_total", "Log pages an edge uploaded", (e) => e.pages_received, true);
    perEdge(
      "tern_hub_edge_duplicate_rows_total",
      "Rows an edge sent again that were already held",
      (e) => e.duplicate_rows,
      true,
    );
    perEdge(
      "tern_hub_edge_last_contact_timestamp_seconds",
      "When an edge last called, seconds since the epoch (edges that never did are left out)",
      (e) => e.last_contact === null ? null : e.last_contact / 1000,
    );
  }
}
