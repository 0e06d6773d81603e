/**
 * @module
 * `GET /pipelines` and `GET /models`, in the Wallaroo edge shapes:
 * `{"pipelines":[{"id","status"}]}` and `{"models":[{"name","sha","status","version"}]}`;
 * a model that failed to load is listed with status `Error` and tern's own `error` field.
 * When a new version failed to replace the one serving, `/pipelines` lists it
 * after the serving one with status `Error` and tern's `version`, `url` and
 * `error`, and `/models` its models with status `Error`, until a later
 * version serves.
 */
import { Hono } from "hono";
import type { ModelStatus } from "../../pipeline/manager.ts";
import type { LargeBatches } from "../../engine/rows_split.ts";
import type { AppDeps } from "../app.ts";

/** Routes that describe what this engine serves. */
export function catalogRoutes({ pipelines }: AppDeps): Hono {
  return new Hono()
    .get("/pipelines", (c) => {
      const failed = pipelines.updateFailure;
      return c.json({
        pipelines: [
          ...(pipelines.name ? [{ id: pipelines.name, status: pipelines.status }] : []),
          ...(failed
            ? [{
              id: failed.name ?? pipelines.name,
              status: "Error",
              ...(failed.version ? { version: failed.version } : {}),
              ...(failed.reference ? { url: failed.reference } : {}),
              error: failed.error,
            }]
            : []),
        ],
      });
    })
    .get("/models", (c) =>
      c.json({
        models: [...pipelines.models, ...(pipelines.updateFailure?.models ?? [])].map(modelEntry),
      }));
}

function modelEntry(m: ModelStatus) {
  return {
    name: m.name,
    sha: m.sha256,
    status: m.status,
    version: m.version,
    ...(m.loaded ? { backend: m.loaded.backend } : {}),
    ...(m.loaded?.warmupMs ? { warmup_ms: m.loaded.warmupMs } : {}),
    ...(m.loaded ? { batching: m.loaded.batcher !== undefined } : {}),
    ...(m.loaded?.session.largeBatches ? { large_batches: largeBatchesEntry(m.loaded.session.largeBatches) } : {}),
    ...(m.error ? { error: m.error } : {}),
  };
}

/** Which runtime runs a model's large batches, from how many rows, and its timings (INFERENCE_BACKEND=auto). */
function largeBatchesEntry(l: LargeBatches) {
  return { backend: l.backend, from_rows: l.fromRows, timed_rows: l.timedRows, ms: l.ms };
}
