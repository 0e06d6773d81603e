/**
 * @module
 * DEBUG's request lines, for tern's app and tern hub's: one line per request
 * with method, path, status and milliseconds.
 */
import type { MiddlewareHandler } from "hono";

/** Middleware handing `debugLog` one line per request once its reply is ready. */
export function requestLines(debugLog: (line: string) => void): MiddlewareHandler {
  return async (c, next) => {
    const t0 = performance.now();
    await next();
    debugLog(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - t0).toFixed(2)} ms`);
  };
}
