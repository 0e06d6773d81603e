/**
 * @module
 * LOG_FORMAT=json: the servers' own output lines (start-up, Ops sync, errors, DEBUG
 * request lines: whatever they write through `console`) become one JSON object
 * a line, `{"time","level","msg"}`, for log shippers (Fluent Bit, Vector,
 * Promtail, journald's JSON readers). Set once at start-up, before anything
 * is printed; stdout and stderr keep their roles.
 *
 * @example
 * useJsonLogLines();
 * console.log("Listening on http://0.0.0.0:8080");
 * // {"time":"2026-12-01T10:00:00.000Z","level":"info","msg":"Listening on http://0.0.0.0:8080"}
 */

/** One output line as LOG_FORMAT=json writes it. */
export function jsonLogLine(level: string, args: readonly unknown[], now = Date.now()): string {
  const msg = args.map((a) => typeof a === "string" ? a : Deno.inspect(a, { colors: false })).join(" ");
  return JSON.stringify({ time: new Date(now).toISOString(), level, msg });
}

/** Makes `console` write JSON lines: log/info → info, debug → debug (stdout); warn, error → stderr. */
export function useJsonLogLines(): void {
  const encoder = new TextEncoder();
  const write = (stream: typeof Deno.stdout, level: string) => (...args: unknown[]) => {
    const bytes = encoder.encode(jsonLogLine(level, args) + "\n");
    for (let n = 0; n < bytes.length;) n += stream.writeSync(bytes.subarray(n));
  };
  console.log = write(Deno.stdout, "info");
  console.info = write(Deno.stdout, "info");
  console.debug = write(Deno.stdout, "debug");
  console.warn = write(Deno.stderr, "warn");
  console.error = write(Deno.stderr, "error");
}
