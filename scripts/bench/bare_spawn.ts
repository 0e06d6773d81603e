/**
 * @module
 * Starts the bare baseline server (scripts/bench/bare_server.ts: Deno.serve + native `session.run`, nothing
 * else) in a process of its own, for the bench sections that compare tern with it.
 */
import { spawnForPort } from "../../tests/support/child_port.ts";

const SERVER = new URL("./bare_server.ts", import.meta.url).pathname;

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
