/**
 * @module
 * Starts the real tern process for end-to-end tests: the compiled binary when
 * `TERN_BIN` is set (run from a fresh temporary directory, as a user would),
 * else the source with the same permissions as `deno task tern` (support/permissions.ts). It listens on
 * an ephemeral loopback port read back from the start-up line.
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { spawnForPort } from "./child_port.ts";
import { sourceRunFlags } from "./permissions.ts";

const ROOT = new URL("../../", import.meta.url);

/** A running tern process. */
export interface TernProcess {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The process id (of tern itself: a `wrap` command must exec it). */
  pid: number;
  /** Everything printed so far (stdout and stderr, in arrival order per stream). */
  output(): string;
  /** Sends SIGTERM and waits for exit; returns the exit code. */
  stop(): Promise<number>;
  /** Sends `signal` (e.g. SIGKILL) and waits for exit; returns the exit code. */
  kill(signal: Deno.Signal): Promise<number>;
}

/** The command that runs tern: `[program, ...args]` before tern's own arguments; `bin` (default TERN_BIN): a binary. */
export function ternCommand(bin = Deno.env.get("TERN_BIN")): string[] {
  if (bin) return [new URL(bin, ROOT).pathname];
  // "deno run <permissions> src/main.ts": run the same with absolute paths.
  return [
    Deno.execPath(),
    "run",
    "--config",
    fromFileUrl(new URL("deno.json", ROOT)),
    ...sourceRunFlags(fromFileUrl(ROOT).replace(/\/$/, "")),
    fromFileUrl(new URL("src/main.ts", ROOT)),
  ];
}

/**
 * Runs tern to completion (for --help, config errors, publish) from `cwd`, else a temporary directory. With `timeoutMs`, a tern
 * still running then is killed (SIGKILL), and stderr ends with a line saying so: a hang fails the test.
 */
export async function runTern(
  args: string[],
  env: Record<string, string> = {},
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [program, ...pre] = ternCommand();
  const cwd = options.cwd ?? await Deno.makeTempDir({ prefix: "tern-cli-" });
  let timer: number | undefined;
  try {
    const child = new Deno.Command(program, {
      args: [...pre, ...args],
      cwd,
      env: { NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let killed = false;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        killed = true;
        child.kill("SIGKILL");
      }, options.timeoutMs);
    }
    const out = await child.output();
    const text = new TextDecoder();
    const stderr = text.decode(out.stderr) + (killed ? `\n[the test killed tern after ${options.timeoutMs} ms]\n` : "");
    return { code: out.code, stdout: text.decode(out.stdout), stderr };
  } finally {
    clearTimeout(timer);
    if (!options.cwd) await Deno.remove(cwd, { recursive: true });
  }
}

/**
 * Starts tern serving on 127.0.0.1:0 and waits until /health/ready answers 200. `wrap`: a command that
 * execs its arguments (tern's command line), e.g. to run tern in a namespace of its own; `bin`: the tern
 * executable to run instead of TERN_BIN's (or the source).
 */
export async function startTern(
  options: { args?: string[]; env?: Record<string, string>; readyTimeoutMs?: number; wrap?: string[]; bin?: string } =
    {},
): Promise<TernProcess> {
  const [program, ...pre] = [...(options.wrap ?? []), ...ternCommand(options.bin)];
  const cwd = await Deno.makeTempDir({ prefix: "tern-e2e-" });
  const { watched, port } = await spawnForPort(
    new Deno.Command(program, {
      args: [...pre, "--host", "127.0.0.1", "--port", "0", ...(options.args ?? [])],
      cwd,
      env: { NO_COLOR: "1", PERSISTENT_VOLUME_DIR: `${cwd}/persist`, ...options.env },
      stdout: "piped",
      stderr: "piped",
    }),
    /Listening on http:\/\/[^:]+:(\d+)/,
    options.readyTimeoutMs ?? 30_000,
  );
  const output = watched.output;
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    const code = await watched.stop(signal);
    await Deno.remove(cwd, { recursive: true });
    return code;
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  if (port === undefined) {
    await stop();
    throw new Error(`tern did not start listening:\n${output()}`);
  }
  const url = `http://127.0.0.1:${port}`;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/health/ready`).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.status === 200) return { url, pid: watched.child.pid, output, stop: () => stop(), kill: stop };
    await delay(50);
  }
  await stop();
  throw new Error(`tern did not become ready:\n${output()}`);
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
