/**
 * @module
 * The one mapping from errors to HTTP replies: a TernError keeps its status
 * and code; anything else is a 500 `internal` (and is logged, since it is a
 * bug). Every error body is `{"error": message, "code": code}`.
 */
import { errorText, MethodNotAllowed, TernError } from "../errors.ts";
import { API_TOKEN_CODE } from "./api_token.ts";

/** Builds the JSON error reply for `err`; `log` receives unexpected errors. */
export function errorResponse(
  err: unknown,
  log: (message: string) => void = console.error,
): Response {
  if (err instanceof TernError) {
    return Response.json({ error: err.message, code: err.code }, {
      status: err.status,
      headers: err instanceof MethodNotAllowed
        ? { allow: err.allow.join(", ") }
        : err.code === API_TOKEN_CODE
        ? { "www-authenticate": 'Bearer realm="tern"' }
        : undefined,
    });
  }
  const message = errorText(err);
  log(
    `internal error: ${err instanceof Error && err.stack ? err.stack : message}`,
  );
  return Response.json({
    error: `internal error: ${message}`,
    code: "internal",
  }, { status: 500 });
}
