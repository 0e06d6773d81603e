/**
 * @module
 * `GET /`: the status page (src/server/status_page.tsx), from the state the
 * app already holds: the pipeline manager, the metrics' activity, the
 * inference log's counters and Ops sync.
 */
import { Hono } from "hono";
import denoJson from "../../../deno.json" with { type: "json" };
import type { AppDeps } from "../app.ts";
import type { EdgeMetrics } from "../metrics.ts";
import { StatusPage, type StatusView } from "../status_page.tsx";

/** The status page route; `metrics` absent with METRICS=false. */
export function statusRoutes(deps: AppDeps, metrics?: EdgeMetrics): Hono {
  const { pipelines, logs, ops, now } = deps;
  return new Hono().get("/", async (c) => {
    const opsStatus = ops?.status();
    const activity = metrics?.activity;
    const view: StatusView = {
      now: now(),
      ternVersion: denoJson.version,
      pipeline: {
        name: pipelines.name,
        version: pipelines.current?.version,
        status: pipelines.status,
        error: pipelines.error,
        url: pipelines.updater?.servingUrl,
        updateError: pipelines.updateFailure?.error,
      },
      models: pipelines.models,
      activity: activity && {
        requests: activity.requests,
        rows: activity.rows,
        recent: activity.recent(),
        series: activity.series(),
      },
      log: await logs?.status(),
      ops: opsStatus && { status: opsStatus, backlog: ops?.backlog ? await ops.backlog() : null },
    };
    return c.html(<StatusPage view={view} />);
  });
}
