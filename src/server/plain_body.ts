/**
 * @module
 * The routes that read a body (`/infer`, `/pipelines/{name}`, V2 infer, `/logs`) read it as sent: a compressed one is
 * refused by name (415), where read as it is a gzip body was a puzzling `invalid_json`. A check in each such route,
 * not a middleware: one more middleware costs every request a dispatch step.
 */
import { UnsupportedMediaType } from "../errors.ts";

/** Throws a 415 naming the Content-Encoding unless the body is sent as it is (none, or `identity`). */
export function refuseEncodedBody(req: Request): void {
  const encoding = req.headers.get("content-encoding");
  const coding = encoding?.trim().toLowerCase();
  if (coding && coding !== "identity") {
    throw new UnsupportedMediaType(
      `Content-Encoding '${encoding}' is not supported: send the body uncompressed (an Arrow file may compress its ` +
        "buffers with LZ4 or ZSTD itself)",
    );
  }
}
