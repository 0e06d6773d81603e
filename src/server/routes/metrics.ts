/**
 * @module
 * `GET /metrics`: the Prometheus text exposition of an app's metrics
 * registry (prom-client writes it; see src/server/metrics.ts for the edge's
 * metrics and src/hub/metrics.ts for the hub's).
 */
import { Hono } from "hono";
import type { Registry } from "prom-client";

/** The `/metrics` route over `registry`. */
export function metricsRoutes(registry: Registry): Hono {
  return new Hono().get("/metrics", async (c) => {
    const text = await registry.metrics();
    return c.body(text, 200, { "content-type": registry.contentType });
  });
}
