/**
 * @module
 * `GET /health` (liveness: the process answers) and `GET /health/ready`
 * (readiness: 200 only once the pipeline is loaded and serving, and not while
 * a model of it has stopped: its worker thread died and it is being loaded again).
 */
import { Hono } from "hono";
import { Unavailable } from "../../errors.ts";
import type { AppDeps } from "../app.ts";

/** Liveness and readiness routes. */
export function healthRoutes({ pipelines }: AppDeps): Hono {
  return new Hono()
    .get("/health", (c) => c.json({ status: "ok", pipeline: pipelines.status }))
    .get("/health/ready", (c) => {
      if (pipelines.status !== "Running") {
        const why = pipelines.error ? `: ${pipelines.error}` : "";
        throw new Unavailable(
          `not ready: pipeline is ${pipelines.status}${why}`,
        );
      }
      const stopped = pipelines.stoppedModel;
      if (stopped) throw new Unavailable(`not ready: model ${stopped} stopped; it is being loaded again`);
      return c.json({ status: "ready", pipeline: pipelines.name });
    });
}
