/**
 * @module
 * Starts the bare baseline server (scripts/bench/bare_server.ts: Deno.serve + native `session.run`, nothing
 * else) in a process of its own, for the bench sections that compare tern with it.
 */

const SERVER = new URL("./bare_server.ts", import.meta.url).pathname;

/** A running bare server. */
export interface BareServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts the bare server on `model` with `threads` onnxruntime threads; resolves once it listens. */
export async function startBareServer(model: string, threads: number): Promise<BareServer> {
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVER, model, String(threads)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the bare server exited before listening (${(await server.status).code})`);
    text += value;
  }
  return {
    url: `http://127.0.0.1:${/listening (\d+)/.exec(text)![1]}/`,
    stop: async () => {
      server.kill("SIGTERM");
      await server.status;
      await reader.cancel();
    },
  };
}
