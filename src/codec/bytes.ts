/**
 * @module
 * Joining byte chunks, as a body read or gathered in pieces is.
 */

/** The chunks as one array; `bytes`, their total length, when the caller has already counted it. */
export function concatBytes(
  chunks: readonly Uint8Array[],
  bytes: number = chunks.reduce((sum, chunk) => sum + chunk.length, 0),
): Uint8Array<ArrayBuffer> {
  const whole = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    whole.set(chunk, at);
    at += chunk.length;
  }
  return whole;
}
