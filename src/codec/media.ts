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

/** The reply formats, in the order a tie between them is settled (Arrow first, as a client naming it expects). */
const REPLY_FORMATS = [["file", ARROW_FILE], ["stream", ARROW_STREAM], ["json", "application/json"]] as const;

/**
 * The Arrow format the client prefers in Accept, if any. Each format takes the `q` of the most specific range naming
 * it (JSON: a JSON type, else `application/*`, else `*\/*`; an Arrow type only when named), `q=0` refuses it, and the
 * highest `q` wins, a tie going to Arrow.
 */
export function arrowReplyFormat(accept: string | undefined): "file" | "stream" | undefined {
  if (!accept) return undefined;
  const a = accept.toLowerCase();
  if (!a.includes("arrow")) return undefined; // the common case: no parse
  const ranges = a.split(",").map((range) => {
    const [type, ...params] = range.split(";").map((p) => p.trim());
    return { type, q: Number(params.find((p) => p.startsWith("q="))?.slice(2) ?? 1) };
  });
  let best: ReplyFormat | undefined;
  let bestQ = 0;
  for (const [format, media] of REPLY_FORMATS) {
    let q: number | undefined;
    let most = -1;
    for (const range of ranges) {
      const s = specificity(format, media, range.type);
      if (s > most) [most, q] = [s, range.q];
    }
    if (q !== undefined && q > bestQ) [best, bestQ] = [format, q];
  }
  return best === "json" ? undefined : best;
}

type ReplyFormat = (typeof REPLY_FORMATS)[number][0];

/** How specifically a media range names a format: 2 by its type, 1 `application/*`, 0 `*\/*`, -1 not at all. */
function specificity(format: ReplyFormat, media: string, type: string): number {
  if (type === media || (format === "json" && type.includes("json"))) return 2;
  if (format !== "json") return -1; // an Arrow type counts only when named
  return type === "application/*" ? 1 : type === "*/*" ? 0 : -1;
}
