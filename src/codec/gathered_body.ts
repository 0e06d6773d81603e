/**
 * @module
 * A streamed reply sent in one piece when it turns out small. Deno.serve leaves
 * Nagle's algorithm on (it offers no TCP_NODELAY), so on a kept-alive
 * connection the small last write of a stream (the chunked terminator, a
 * closing `]`) waits for the client's delayed ACK of the write before it:
 * 40 ms on Linux, for a 2-row `/logs` read that takes 2 ms in one piece.
 */
import { concatBytes } from "./bytes.ts";

/**
 * Log replies up to this size are sent in one piece, to save the 40 ms stall: at most this (plus a page and the
 * copy that joins them) held per reading request, which no budget bounds, so kept small. Longer replies take their
 * time on the wire anyway.
 */
export const WHOLE_LOG_REPLY_BYTES = 1 << 20;

/**
 * Reads `stream` until it ends or holds more than `wholeBytes`: a stream that ended comes back as one body
 * (sent in one write, with a Content-Length); a longer one as a stream of what was read, then the rest.
 * An error while gathering is thrown here, so the client gets an error reply rather than a cut-off body.
 */
export async function gatherSmallBody(
  stream: ReadableStream<Uint8Array>,
  wholeBytes: number = WHOLE_LOG_REPLY_BYTES,
): Promise<Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>> {
  const reader = stream.getReader();
  const read: Uint8Array[] = [];
  let bytes = 0;
  while (bytes <= wholeBytes) {
    const next = await reader.read();
    if (next.done) return concatBytes(read, bytes);
    read.push(next.value);
    bytes += next.value.length;
  }
  let head: Uint8Array | undefined = concatBytes(read, bytes);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (head) {
        controller.enqueue(head);
        head = undefined;
        return;
      }
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
