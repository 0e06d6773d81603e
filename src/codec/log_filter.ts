/**
 * @module
 * The body of a log query, as the edge's `POST /logs` and the hub's
 * `POST /edges/{name}/logs` both read it: `{}` or `{start, end, after,
 * limit}` (docs/api.md). One parser, so the same requests, errors and pandas
 * code work against both.
 */
import { BadInput } from "../errors.ts";

/** A parsed log query. */
export interface LogQuery {
  /** Rows at or after this time (ms since epoch). */
  start?: number;
  /** Rows before this time (ms since epoch). */
  end?: number;
  /** Rows whose id is above this one (a cursor: the last `metadata.id` seen). */
  after?: number;
  /** At most this many rows. */
  limit?: number;
}

const KEYS = new Set(["start", "end", "after", "limit"]);

/**
 * Reads the query from the body; an empty body is `{}`; anything else is a 400 `bad_filter` (or `invalid_json`)
 * naming it, as are filters in the URL's query string `search` (they would otherwise be ignored).
 */
export function parseLogQuery(text: string, search = ""): LogQuery {
  const inUrl = [...new URLSearchParams(search).keys()];
  if (inUrl.length) {
    throw new BadInput(
      `log filters are read from the JSON body, not the query string (${inUrl.map((k) => `'${k}'`).join(", ")}): ` +
        `send e.g. {"limit": 100}`,
      "bad_filter",
    );
  }
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadInput(`body is not valid JSON: ${(err as Error).message}`, "invalid_json");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadInput("body must be a JSON object: {} or {start, end, after, limit}", "bad_filter");
  }
  const unknown = Object.keys(body).filter((k) => !KEYS.has(k));
  if (unknown.length) {
    throw new BadInput(
      `unknown log filter ${unknown.map((k) => `'${k}'`).join(", ")}; filters: start, end, after, limit`,
      "bad_filter",
    );
  }
  const b = body as Record<string, unknown>;
  return {
    start: time("start", b.start),
    end: time("end", b.end),
    after: whole("after", b.after, 0),
    limit: whole("limit", b.limit, 1),
  };
}

/**
 * ISO 8601 as clients write it (JavaScript's toISOString, Python's isoformat): a date (UTC midnight), or a date and a
 * time, optionally with seconds and a fraction, then optionally `Z` or an offset: the forms Date.parse reads as ISO.
 * Date.parse alone would take `"1"` as the year 2001.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;

function time(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === "number" ? v : typeof v === "string" && ISO_8601.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) {
    throw new BadInput(
      `'${name}' must be ms since the epoch or an ISO 8601 time, got ${JSON.stringify(v)}`,
      "bad_filter",
    );
  }
  return ms;
}

function whole(name: string, v: unknown, min: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new BadInput(`'${name}' must be a whole number ≥ ${min}, got ${JSON.stringify(v)}`, "bad_filter");
  }
  return v;
}
