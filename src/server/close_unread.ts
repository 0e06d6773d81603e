/**
 * @module
 * A reply sent before its request's body was read (a 404, 405, 413, 415 or 401
 * refused on the headers alone) closes the connection: the unread rest of the
 * body would otherwise be taken for the next request on it, or the server
 * drops the connection under the client's next request on it and the client
 * sees a broken pipe instead of an answer (found by tests/e2e/fuzz_test.ts).
 * `Connection: close` tells the client not to reuse it.
 */
import type { MiddlewareHandler } from "hono";

/** Middleware: `Connection: close` on every reply whose request body was left unread. */
export function closeUnread(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const req = c.req.raw;
    if (req.body !== null && !req.bodyUsed && !c.res.headers.has("connection")) {
      try {
        c.res.headers.set("connection", "close");
      } catch {
        // Immutable headers (a reply passed through as is): the reply goes as it is.
      }
    }
  };
}
