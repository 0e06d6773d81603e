/**
 * @module
 * The Hono app of the edge API. It only wires routes to the dependencies it is
 * given; it opens no sockets and reads no files, so tests can drive it with
 * `app.request()` as well as over HTTP.
 *
 * @example
 * const app = createApp({ pipelines, now: Date.now, maxBodyBytes: 64 << 20 });
 * Deno.serve({ port: 8080 }, app.fetch);
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { MethodNotAllowed, NotFound, PayloadTooLarge } from "../errors.ts";
import type { PipelineManager } from "../pipeline/manager.ts";
import { errorResponse } from "./error_response.ts";
import { catalogRoutes } from "./routes/catalog.ts";
import { healthRoutes } from "./routes/health.ts";
import { inferRoutes } from "./routes/infer.ts";
import { logsRoutes } from "./routes/logs.ts";
import type { InferenceLog } from "../logs/mod.ts";
import type { InferenceReply } from "../codec/reply.ts";
import type { OpsSyncStatus } from "../ops/agent.ts";
import type { LoadedPipeline } from "../pipeline/loaded.ts";
import { EdgeMetrics } from "./metrics.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { v2Routes } from "./routes/v2.ts";
import { statusRoutes } from "./routes/status.tsx";
import { INFLIGHT_WAIT_MS, InflightBudget } from "./inflight.ts";
import { apiTokenGuard, isHealthPath } from "./api_token.ts";
import { closeUnread } from "./close_unread.ts";
import { requestLines } from "./request_lines.ts";

/** What the app needs from the rest of tern. */
export interface AppDeps {
  pipelines: PipelineManager;
  /** Wall clock, ms since epoch (inference `time`). */
  now: () => number;
  /** Largest accepted request body, on every route (MAX_REQUEST_SIZE). */
  maxBodyBytes: number;
  /** Most rows in one inference request (MAX_REQUEST_ROWS; default 10,000). */
  maxRequestRows?: number;
  /** Inference request bodies served at once, in bytes (MAX_INFLIGHT_SIZE; default 2 × maxBodyBytes). */
  maxInflightBytes?: number;
  /** The inference log; absent when LOG_DURABILITY=off. */
  logs?: Pick<InferenceLog, "writer" | "status" | "read" | "readJson"> & Partial<Pick<InferenceLog, "columns">>;
  /** Draws for A/B splits without a key, in [0, 1) (default Math.random). */
  random?: () => number;
  /** When set (DEBUG=true), receives one line per request: method, path, status, ms. */
  debugLog?: (line: string) => void;
  /** METRICS: false leaves out `/metrics` and measures nothing (default true). */
  metrics?: boolean;
  /** Ops sync (EDGE_BUNDLE): where it stands, and the log rows not yet uploaded. */
  ops?: { status(): Readonly<OpsSyncStatus> | undefined; backlog?(): Promise<number> };
  /** API_TOKEN: every route but the health checks needs `Authorization: Bearer <apiToken>`. */
  apiToken?: string;
}

/** AppDeps with what createApp resolves once for the routes. */
export interface RouteDeps extends AppDeps {
  maxRequestRows: number;
  /** MAX_INFLIGHT_SIZE's budget, shared by every inference route. */
  inflight: InflightBudget;
  /** Called with every inference served (feeds the metrics, when on). */
  onInference?: (pipeline: LoadedPipeline, reply: InferenceReply) => void;
}

/** Builds the edge API app. */
export function createApp(appDeps: AppDeps): Hono {
  // Not strict: `/infer/` is `/infer`, as clients that add a slash expect.
  const app = new Hono({ strict: false });
  const metrics = appDeps.metrics === false ? undefined : new EdgeMetrics({
    pipelines: appDeps.pipelines,
    now: appDeps.now,
    logStatus: appDeps.logs && (() => appDeps.logs!.status()),
    ops: appDeps.ops && (() => appDeps.ops!.status()),
    backlog: appDeps.ops?.backlog,
  });
  // First, so it times and counts every reply, errors included.
  if (metrics) app.use(metrics.http.middleware);
  app.use(closeUnread());
  const deps: RouteDeps = {
    ...appDeps,
    maxRequestRows: appDeps.maxRequestRows ?? 10_000,
    onInference: metrics?.observe,
    inflight: new InflightBudget(appDeps.maxInflightBytes ?? 2 * appDeps.maxBodyBytes, INFLIGHT_WAIT_MS),
  };
  if (deps.debugLog) app.use(requestLines(deps.debugLog));
  if (deps.apiToken !== undefined) app.use(apiTokenGuard(deps.apiToken, isHealthPath));
  // Every route that reads a body reads at most MAX_REQUEST_SIZE of it (chunked bodies are counted as they arrive).
  const tooLarge = new PayloadTooLarge(`request body is larger than the limit of ${deps.maxBodyBytes} bytes`);
  app.use(bodyLimit({ maxSize: deps.maxBodyBytes, onError: () => errorResponse(tooLarge) }));
  app.route("/", healthRoutes(deps));
  app.route("/", catalogRoutes(deps));
  app.route("/", inferRoutes(deps));
  app.route("/", logsRoutes(deps));
  app.route("/", v2Routes(deps));
  app.route("/", statusRoutes(deps, metrics));
  if (metrics) app.route("/", metricsRoutes(metrics.registry));
  const allowed = allowedMethods(app);
  app.notFound((c) => {
    const allow = allowed(c.req.path);
    return errorResponse(
      allow.length
        ? new MethodNotAllowed(`${c.req.path} does not take ${c.req.method}; it takes ${allow.join(", ")}`, allow)
        : new NotFound(`no route ${c.req.method} ${c.req.path}`),
    );
  });
  app.onError((err) => errorResponse(err));
  return app;
}

/** For a path, the methods its routes answer (GET brings HEAD, as Hono answers HEAD with GET's route). */
function allowedMethods(app: Hono): (path: string) => string[] {
  const routes = app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => ({
      method: r.method,
      pattern: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")}/?$`),
    }));
  return (path) => {
    const methods = new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}
