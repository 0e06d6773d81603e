/**
 * @module
 * Spawns a server process for tests, collects what it prints, and waits for
 * the line announcing its port (or its exit, or a deadline).
 */

/** A spawned server whose port line was seen. */
export interface WatchedChild {
  child: Deno.ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Sends `signal`, waits for the exit and the end of its output; returns the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/**
 * Spawns `command` (stdout/stderr piped) and resolves with the first capture
 * of `portLine`, or undefined if it exits or `timeoutMs` passes first.
 */
export async function spawnForPort(
  command: Deno.Command,
  portLine: RegExp,
  timeoutMs: number,
): Promise<{ watched: WatchedChild; port: number | undefined }> {
  const child = command.spawn();
  let output = "";
  let resolvePort: (port: number) => void;
  const seen = new Promise<number>((r) => resolvePort = r);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output += chunk;
      const m = portLine.exec(output);
      if (m) resolvePort(Number(m[1]));
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let timer: number | undefined;
  const port = await Promise.race([
    seen,
    child.status.then(() => undefined),
    new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), timeoutMs)),
  ]);
  clearTimeout(timer);
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch { /* already exited */ }
    const status = await child.status;
    await pumps;
    return status.code;
  };
  return { watched: { child, output: () => output, stop }, port };
}
