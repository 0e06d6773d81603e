/**
 * @module
 * The codecs that use apache-arrow, loaded on first use: evaluating
 * apache-arrow is about 70 ms of a start-up on 2 cores, and a process whose
 * clients send and read only pandas-records JSON never needs it. The first
 * Arrow request (or Arrow `/logs` read) waits for them once. They are not loaded in the
 * background after start-up: that would stall the serving thread for those
 * 70 ms just as the first requests arrive, whatever their format.
 */

/** What the serving routes use of apache-arrow. */
export interface ArrowCodecs {
  decodeArrow: typeof import("./arrow_input.ts").decodeArrow;
  encodeArrowReply: typeof import("./arrow_reply.ts").encodeArrowReply;
  logArrowStream: typeof import("./log_stream.ts").logArrowStream;
}

let loading: Promise<ArrowCodecs> | undefined;

/** The Arrow codecs, imported on the first call. */
export function arrowCodecs(): Promise<ArrowCodecs> {
  return loading ??= Promise.all([import("./arrow_input.ts"), import("./arrow_reply.ts"), import("./log_stream.ts")])
    .then(([input, reply, logs]) => ({
      decodeArrow: input.decodeArrow,
      encodeArrowReply: reply.encodeArrowReply,
      logArrowStream: logs.logArrowStream,
    }), (err) => {
      loading = undefined; // the next Arrow request tries again
      throw err;
    });
}
