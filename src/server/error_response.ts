/**
 * @module
 * The one mapping from errors to HTTP replies: a TernError keeps its status,
 * code and headers; anything else is a 500 `internal` (and is logged, since it is a
 * bug; a failed query without its parameters). Every error body is `{"error": message, "code": code}`.
 */
import { errorText, internalErrorLine, TernError } from "../errors.ts";

/** Builds the JSON error reply for `err`; `log` receives unexpected errors. */
export function errorResponse(
  err: unknown,
  log: (message: string) => void = console.error,
): Response {
  if (err instanceof TernError) {
    return Response.json({ error: err.message, code: err.code }, {
      status: err.status,
      headers: err.headers,
    });
  }
  log(`internal error: ${internalErrorLine(err)}`);
  return Response.json({
    error: `internal error: ${errorText(err)}`,
    code: "internal",
  }, { status: 500 });
}
