/**
 * @module
 * The real `tern hub` for end-to-end tests (the same program as tern: the
 * source or TERN_BIN): `hub serve` on a fixed loopback port, so it can be
 * stopped and started again where edges expect it, with libSQL in a state
 * folder or PostgreSQL; the fleet commands (`add-edge`, `edges`…); and
 * tern runs that are expected to stop on their own (refused by Ops).
 */
import { spawnForPort, type WatchedChild } from "./child_port.ts";
import { ternCommand } from "./tern_process.ts";

/** A running hub. */
export interface HubProcess {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`: what bundles carry as OPSCENTER_HOST. */
  host: string;
  output(): string;
  /** SIGTERM (default) or SIGKILL; waits for the exit. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Where a hub keeps its state: a libSQL folder or a PostgreSQL URL. */
export type HubState = { stateDir: string } | { databaseUrl: string };

/** A port free right now on loopback (a hub restarted on it is found by its edges again). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function stateArgs(state: HubState): string[] {
  return "stateDir" in state ? ["--state-dir", state.stateDir] : ["--database-url", state.databaseUrl];
}

/** Starts `tern hub serve` on `port`; `env` adds variables (TERN_HUB_TEST_CLOCK_OFFSET_MS, DEBUG), `args` flags. */
export async function startHub(
  state: HubState,
  port: number,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<HubProcess> {
  const [program, ...pre] = ternCommand();
  const { watched, port: seen } = await spawnForPort(
    new Deno.Command(program, {
      args: [...pre, "hub", "serve", "--host", "127.0.0.1", "--port", String(port), ...stateArgs(state), ...args],
      env: { NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }),
    /tern hub listening on https?:\/\/[^:]+:(\d+)/,
    30_000,
  );
  if (seen === undefined) {
    await watched.stop();
    throw new Error(`tern hub did not start:\n${watched.output()}`);
  }
  return hubOf(watched, port);
}

function hubOf(watched: WatchedChild, port: number): HubProcess {
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    output: watched.output,
    stop: (signal = "SIGTERM") => watched.stop(signal),
  };
}

/** Runs a program of the tern binary to its end; `timeoutMs` kills a hang (and says so in stderr). */
export async function runToExit(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [program, ...pre] = ternCommand();
  const child = new Deno.Command(program, {
    args: [...pre, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr) + (killed ? `\n[killed by the test after ${timeoutMs} ms]` : ""),
  };
}

/** `tern hub add-edge`: the EDGE_BUNDLE it prints (stdout). */
export async function addEdge(state: HubState, name: string, opscenterHost: string): Promise<string> {
  const out = await runToExit([
    "hub",
    "add-edge",
    "--name",
    name,
    "--opscenter-host",
    opscenterHost,
    ...stateArgs(state),
  ], {});
  if (out.code !== 0) throw new Error(`tern hub add-edge failed (${out.code}):\n${out.stderr}`);
  return out.stdout.trim();
}

/** One edge as `GET /edges` shows it. */
export interface EdgeRow {
  name: string;
  last_contact: number | null;
  /** What the last check-in reported (null until one has). */
  status: string | null;
  backlog_rows: number;
  rows_received: number;
  pages_received: number;
  duplicate_rows: number;
  largest_page_rows: number;
}

/** `GET /edges` → the edge named `name`. */
export async function edgeOf(hubUrl: string, name: string): Promise<EdgeRow> {
  const { edges } = await (await fetch(`${hubUrl}/edges`)).json();
  const edge = edges.find((e: EdgeRow) => e.name === name);
  if (!edge) throw new Error(`the hub lists no edge '${name}'`);
  return edge;
}

/** Polls `check` until it holds; throws naming `what` if it never does (a hang guard, not a timing check). */
export async function until(what: string, check: () => Promise<boolean> | boolean, tries = 6000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} did not happen`);
}
