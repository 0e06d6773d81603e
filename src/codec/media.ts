/**
 * @module
 * Content negotiation for `/infer`: which decoder reads a request body, and
 * whether the reply is Arrow. Resolved from headers with no allocation beyond
 * lower-casing them.
 */
import { UnsupportedMediaType } from "../errors.ts";
import { hasMagic } from "./arrow_verify.ts";

/** Media type of an Arrow IPC file. */
export const ARROW_FILE = "application/vnd.apache.arrow.file";
/** Media type of an Arrow IPC stream. */
export const ARROW_STREAM = "application/vnd.apache.arrow.stream";
/** The media type of each Arrow reply format. */
export const ARROW_MEDIA_TYPE = { file: ARROW_FILE, stream: ARROW_STREAM } as const;
/** Media type of a pandas-records reply. */
export const PANDAS_RECORDS = "application/json; format=pandas-records";

/** The decoders tern has. */
export type RequestFormat = "pandas-records" | "arrow";

const ACCEPTED = `${PANDAS_RECORDS}, ${ARROW_FILE} or ${ARROW_STREAM}`;

/**
 * Picks the decoder for a body. JSON types (also the docs' doubled
 * `Content-Type: application/json; …` value) read pandas-records; the Arrow
 * types read Arrow. With no Content-Type or `application/octet-stream`, the
 * body's first bytes decide (Arrow magic or continuation marker, else `[`/`{`).
 */
export function requestFormat(
  contentType: string | undefined,
  body: Uint8Array,
): RequestFormat {
  const type = (contentType ?? "").toLowerCase();
  if (type.includes(ARROW_FILE) || type.includes(ARROW_STREAM)) return "arrow";
  if (type.includes("json")) {
    const format = /format=([\w-]+)/.exec(type)?.[1];
    if (format && format !== "pandas-records") {
      throw new UnsupportedMediaType(
        `format=${format} is not supported; send format=pandas-records or Arrow`,
      );
    }
    return "pandas-records";
  }
  if (type === "" || type.startsWith("application/octet-stream")) {
    if (isArrow(body)) return "arrow";
    const first = body.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (first === 0x5b || first === 0x7b) return "pandas-records";
    throw new UnsupportedMediaType(
      `${
        type === "" ? "without a Content-Type" : `with Content-Type '${contentType}'`
      } the body's first bytes decide, ` +
        `and these are neither Arrow (ARROW1 or a stream marker) nor JSON ('[' or '{'): send ${ACCEPTED}`,
    );
  }
  throw new UnsupportedMediaType(
    `unsupported Content-Type '${contentType ?? ""}': send ${ACCEPTED}` +
      (type.includes("x-www-form-urlencoded")
        ? " (curl -d sets form encoding unless -H 'Content-Type: …' is given)"
        : ""),
  );
}

function isArrow(body: Uint8Array): boolean {
  return hasMagic(body, 0) || (body.length >= 4 && body[0] === 0xff && body[1] === 0xff && body[2] === 0xff &&
    body[3] === 0xff);
}

/**
 * The Arrow format the client prefers in Accept, if any: the highest `q` among the Arrow types and JSON wins, an
 * explicit type before a wildcard (`*\/*`, `application/*`) of the same `q`, then the first listed; `q=0` refuses a type.
 */
export function arrowReplyFormat(accept: string | undefined): "file" | "stream" | undefined {
  if (!accept) return undefined;
  const a = accept.toLowerCase();
  if (!a.includes("arrow")) return undefined; // the common case: no parse
  let best: { format: "file" | "stream" | "json"; rank: number } | undefined;
  for (const range of a.split(",")) {
    const [type, ...params] = range.split(";").map((p) => p.trim());
    const q = Number(params.find((p) => p.startsWith("q="))?.slice(2) ?? 1);
    if (!(q > 0)) continue;
    const wildcard = type === "*/*" || type === "application/*";
    const format = type === ARROW_FILE
      ? "file"
      : type === ARROW_STREAM
      ? "stream"
      : wildcard || type.includes("json")
      ? "json"
      : undefined;
    const rank = q * 1000 + (wildcard ? 0 : 0.5); // q has at most three decimals
    if (format && (!best || rank > best.rank)) best = { format, rank };
  }
  return best?.format === "json" ? undefined : best?.format;
}
