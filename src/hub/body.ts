/**
 * @module
 * Reads a request body as bytes, at most `maxBytes` (PayloadTooLarge past
 * it, found from Content-Length or while reading), since request tokens are
 * checked against the exact bytes.
 */
import { PayloadTooLarge } from "../errors.ts";
import { concatBytes } from "../codec/bytes.ts";

/** The body's bytes. */
export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) throw new PayloadTooLarge(`the body is over ${maxBytes} bytes`);
  if (!req.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of req.body) {
    length += part.length;
    if (length > maxBytes) throw new PayloadTooLarge(`the body is over ${maxBytes} bytes`);
    parts.push(part);
  }
  return concatBytes(parts, length);
}
