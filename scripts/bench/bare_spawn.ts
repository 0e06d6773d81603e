/**
 * @module
 * The bare baselines, each in a process of its own: `session.run` in a loop (scripts/bench/bare_run.ts) and
 * the bare server (scripts/bench/bare_server.ts: Deno.serve + native `session.run`, nothing else), for the
 * bench sections that compare tern with them.
 */
import { spawnForPort } from "../../tests/support/child_port.ts";
import type { Figures, Where } from "./load.ts";

const SERVER = new URL("./bare_server.ts", import.meta.url).pathname;
const RUN = new URL("./bare_run.ts", import.meta.url).pathname;

/** bare_run.ts's figures: `session.run` of `model` (demo, demo1000, cnn) on `backend`, for `seconds`. */
export async function measureBareRun(
  model: string,
  backend: string,
  threads: number,
  seconds: number,
): Promise<Omit<Figures, keyof Where>> {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", RUN, model, backend, `${threads}`, `${seconds}`],
    stderr: "inherit",
  }).output();
  if (!run.success) throw new Error(`bare_run.ts ${model} ${backend} failed`);
  return JSON.parse(new TextDecoder().decode(run.stdout));
}

/** A running bare server. */
export interface BareServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts the bare server on `model` with `threads` onnxruntime threads; resolves once it listens. */
export async function startBareServer(model: string, threads: number): Promise<BareServer> {
  const { watched, port } = await spawnForPort(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SERVER, model, String(threads)],
      stdout: "piped",
      stderr: "piped",
    }),
    /listening (\d+)/,
    60_000,
  );
  if (port === undefined) {
    await watched.stop();
    throw new Error(`the bare server did not start listening:\n${watched.output()}`);
  }
  return { url: `http://127.0.0.1:${port}/`, stop: async () => void await watched.stop() };
}
