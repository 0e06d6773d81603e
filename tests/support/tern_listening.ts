/**
 * @module
 * Starts the real tern and returns as soon as it listens, for tests of a
 * tern that is not (or not yet) ready: a pipeline that fails to load keeps
 * /health/ready at 503, so startTern would wait for nothing.
 */
import { spawnForPort } from "./child_port.ts";
import { ternCommand, type TernProcess } from "./tern_process.ts";

/** Starts tern on 127.0.0.1:0 from a fresh folder; resolves once it listens. */
export async function startListening(env: Record<string, string>): Promise<TernProcess> {
  const [program, ...pre] = ternCommand();
  const cwd = await Deno.makeTempDir({ prefix: "tern-e2e-" });
  const { watched, port } = await spawnForPort(
    new Deno.Command(program, {
      args: [...pre, "--host", "127.0.0.1", "--port", "0"],
      cwd,
      env: { NO_COLOR: "1", PERSISTENT_VOLUME_DIR: `${cwd}/persist`, ...env },
      stdout: "piped",
      stderr: "piped",
    }),
    /Listening on http:\/\/[^:]+:(\d+)/,
    30_000,
  );
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    const code = await watched.stop(signal);
    await Deno.remove(cwd, { recursive: true });
    return code;
  };
  if (port === undefined) {
    await stop();
    throw new Error(`tern did not start listening:\n${watched.output()}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: watched.child.pid,
    output: watched.output,
    stop: () => stop(),
    kill: stop,
  };
}

/** Polls `/pipelines` until the first pipeline's status is no longer Loading; returns the listing. */
export async function settledPipelines(url: string): Promise<{ id: string; status: string; error?: string }[]> {
  for (;;) {
    const { pipelines } = await (await fetch(`${url}/pipelines`)).json();
    if (pipelines.length > 0 && pipelines[0].status !== "Loading") return pipelines;
    await new Promise((r) => setTimeout(r, 50));
  }
}
