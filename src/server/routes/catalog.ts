/**
 * @module
 * `GET /pipelines` and `GET /models`, in the Wallaroo edge shapes:
 * `{"pipelines":[{"id","status"}]}` and `{"models":[{"name","sha","status","version"}]}`;
 * a model that failed to load is listed with status `Error` and tern's own `error` field.
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
        models: pipelines.models.map((m) => ({
          name: m.name,
          sha: m.sha256,
          status: m.status,
          version: m.version,
          ...(m.loaded ? { backend: m.loaded.backend } : {}),
          ...(m.loaded?.warmupMs ? { warmup_ms: m.loaded.warmupMs } : {}),
          ...(m.error ? { error: m.error } : {}),
        })),
      }));
}
