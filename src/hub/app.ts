/**
 * @module
 * The Hono app of `tern hub`: the edge-facing protocol (routes/ops.ts), the
 * fleet view `GET /edges` (and as a page, `GET /`), an edge's uploaded log
 * `POST /edges/{name}/logs`, `GET /metrics` and `GET /health`. It opens no
 * sockets and holds no state of its own (all
 * of it is in the store), so hub processes behind a load balancer are
 * interchangeable and tests drive it with `app.request()` and a fake clock.
 */
import { Hono } from "hono";
import { NotFound } from "../errors.ts";
import { errorResponse } from "../server/error_response.ts";
import { edgeView } from "./edges_view.ts";
import { edgeLogsRoutes } from "./routes/edge_logs.ts";
import { opsRoutes } from "./routes/ops.ts";
import type { HubStore } from "./store.ts";
import { guardStore } from "./store_guard.ts";
import { HubMetrics } from "./metrics.ts";
import { fleetRoutes } from "./routes/fleet.tsx";
import { metricsRoutes } from "../server/routes/metrics.ts";
import { apiTokenGuard } from "../server/api_token.ts";
import { requestLines } from "../server/request_lines.ts";
import { OPS_PATHS } from "../ops/protocol.ts";

/** What the hub app needs. */
export interface HubAppDeps {
  store: HubStore;
  /** The hub's clock, ms since the epoch (injected: tests age tokens and sessions). */
  now: () => number;
  /** The hub's log lines. */
  log: (line: string) => void;
  /** DEBUG: one line per request (method, path, status, ms); never a header or body. */
  debugLog?: (line: string) => void;
  /** HUB_API_TOKEN: every route but /health and the edges' protocol needs `Authorization: Bearer <apiToken>`. */
  apiToken?: string;
}

/** Builds the hub's app. */
export function createHubApp(deps: HubAppDeps): Hono {
  const app = new Hono();
  const store = guardStore(deps.store, deps.log);
  // First, so it times and counts every reply, errors included.
  const metrics = new HubMetrics(store, deps.now);
  app.use(metrics.http.middleware);
  if (deps.debugLog) app.use(requestLines(deps.debugLog));
  if (deps.apiToken !== undefined) app.use(apiTokenGuard(deps.apiToken, isHubOpenPath));
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.route("/", fleetRoutes(store, deps.now));
  app.route("/", metricsRoutes(metrics.registry));
  app.get("/edges", async (c) => c.json({ edges: (await store.edges()).map(edgeView) }));
  app.route("/", edgeLogsRoutes(store));
  app.route("/", opsRoutes({ ...deps, store }));
  app.notFound((c) => errorResponse(new NotFound(`no route ${c.req.method} ${c.req.path}`)));
  app.onError((err) => errorResponse(err, deps.log));
  return app;
}

/** The hub's paths open without HUB_API_TOKEN: its health check, and the edges' protocol (it has its own tokens). */
function isHubOpenPath(path: string): boolean {
  return path === "/health" || (Object.values(OPS_PATHS) as string[]).includes(path);
}
