/**
 * @module
 * One error type per failure class. Each carries the HTTP status and the
 * machine-readable `code` it maps to; `src/server/error_response.ts` turns any
 * of them into `{"error": message, "code": code}` with that status. Code below
 * the server throws these and never builds HTTP replies itself.
 */

/** Base of every error tern reports to a client. */
export class TernError extends Error {
  /** HTTP status this failure class maps to. */
  readonly status: number;
  /** Stable machine-readable code, e.g. `bad_input`, `not_found`. */
  readonly code: string;
  /** Headers the reply carries besides the JSON body, e.g. `allow` on a 405. */
  readonly headers?: Readonly<Record<string, string>>;
  constructor(message: string, status: number, code: string, headers?: Record<string, string>) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** The request is malformed or does not fit the model (400). */
export class BadInput extends TernError {
  constructor(message: string, code = "bad_input") {
    super(message, 400, code);
  }
}

/** The request body's Content-Type is not one tern reads (415). */
export class UnsupportedMediaType extends TernError {
  constructor(message: string) {
    super(message, 415, "unsupported_media_type");
  }
}

/** The request body exceeds the configured maximum (413). */
export class PayloadTooLarge extends TernError {
  constructor(message: string, code = "payload_too_large") {
    super(message, 413, code);
  }
}

/** The named pipeline, model or route does not exist (404). */
export class NotFound extends TernError {
  constructor(message: string, code = "not_found") {
    super(message, 404, code);
  }
}

/** The path exists but not for this method (405); the reply's `Allow` lists the methods it takes. */
export class MethodNotAllowed extends TernError {
  /** Methods the path answers, e.g. `["GET", "HEAD"]`. */
  readonly allow: readonly string[];
  constructor(message: string, allow: readonly string[]) {
    super(message, 405, "method_not_allowed", { allow: allow.join(", ") });
    this.allow = allow;
  }
}

/** tern cannot serve this now (pipeline loading or failed) (503). */
export class Unavailable extends TernError {
  constructor(message: string) {
    super(message, 503, "unavailable");
  }
}

/** Ops: a request without valid credentials, or a join token that is not the edge's (401). */
export class Unauthorized extends TernError {
  constructor(message: string, code = "unauthorized", headers?: Record<string, string>) {
    super(message, 401, code, headers);
  }
}

/** Ops: credentials that were valid once and are no longer, e.g. an expired session (403). */
export class Forbidden extends TernError {
  constructor(message: string, code = "forbidden") {
    super(message, 403, code);
  }
}

/** A name or one-time token already taken (409). */
export class Conflict extends TernError {
  constructor(message: string, code = "conflict") {
    super(message, 409, code);
  }
}

/** Ops: a one-time token past its lifetime (410). */
export class Gone extends TernError {
  constructor(message: string, code = "gone") {
    super(message, 410, code);
  }
}

/**
 * A pipeline that cannot be served as specified: steps whose outputs and inputs do not meet, a mapping naming
 * what is not there, a validation that does not parse or names what the pipeline lacks. Loading stops; the
 * pipeline already serving (if any) goes on.
 */
export class PipelineLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PipelineLoadError";
  }
}

/** A bad environment variable or flag: start-up stops with exit code 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * An error's message (anything thrown, as text). A failed database query is told by its cause (disk full,
 * connection refused): drizzle's own message holds every parameter of the query, which are inference rows and keys.
 */
export function errorText(err: unknown): string {
  if (isFailedQuery(err)) {
    return `database query failed: ${err.cause === undefined ? "no cause given" : errorText(err.cause)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** drizzle's DrizzleQueryError (`Failed query: <sql>\nparams: <every parameter>`), with the driver's error as cause. */
interface FailedQuery extends Error {
  query: string;
  params: unknown;
}

function isFailedQuery(err: unknown): err is FailedQuery {
  return err instanceof Error && typeof (err as Partial<FailedQuery>).query === "string" && "params" in err;
}

/** An unexpected error for a log line: its stack, or for a failed query its cause's stack and its SQL. */
export function internalErrorLine(err: unknown): string {
  if (isFailedQuery(err)) {
    return `database query failed: ${internalErrorLine(err.cause)} (query: ${err.query.slice(0, 300)})`;
  }
  return err instanceof Error && err.stack ? err.stack : String(err);
}

/** Printable text from a string a peer supplied (a registry, an edge): no control characters (no ANSI, no fake lines). */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
