/**
 * @module
 * `GET /pipelines` and `GET /models`, in the Wallaroo edge shapes:
 * `{"pipelines":[{"id","status"}]}` and `{"models":[{"name","sha","status","version"}]}`.
 */
import { Hono } from "hono";
import type { AppDeps } from "../app.ts";

/** Routes that describe what this engine serves. */
export function catalogRoutes({ pipelines }: AppDeps): Hono {
  return new Hono()
    .get("/pipelines", (c) =>
      c.json({
        pipelines: pipelines.name ? [{ id: pipelines.name, status: pipelines.status }] : [],
      }))
    .get("/models", (c) =>
      c.json({
        models: (pipelines.current?.steps ?? []).map((m) => ({
          name: m.name,
          sha: m.sha256,
          status: "Running",
          version: m.version,
          backend: m.backend,
          ...(m.warmupMs ? { warmup_ms: m.warmupMs } : {}),
        })),
      }));
}
