/**
 * @module
 * HTTP load from Debian's `wrk` (docs/test-peers.md): a closed-loop load generator in C,
 * so on a 2-core machine it leaves more of the cores to the server measured
 * than a load generator in this process would. A small Lua script posts the
 * body and prints the figures as JSON.
 */
import type { Figures } from "./load.ts";

/** One wrk run: POST `body` to `url` over `connections` connections for `seconds`. */
export interface WrkRun {
  url: string;
  contentType: string;
  /** The Accept header, when set. */
  accept?: string;
  body: Uint8Array | string;
  connections: number;
  seconds: number;
}

const SCRIPT = `
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE")
if os.getenv("WRK_ACCEPT") ~= "" then wrk.headers["Accept"] = os.getenv("WRK_ACCEPT") end
function done(summary, latency, requests)
  io.write(string.format('WRK_JSON {"requests":%d,"seconds":%f,"p50us":%f,"p99us":%f,"status":%d,"socket":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`;

/** Says whether wrk is installed. */
export async function haveWrk(): Promise<boolean> {
  try {
    return (await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output()).code <= 1;
  } catch {
    return false;
  }
}

/** Runs wrk (after a 1 s warm-up run) and returns its figures; any non-2xx answer or socket error fails the run. */
export async function wrkMeasure(
  where: Omit<Figures, "requests" | "perSecond" | "p50Ms" | "p99Ms">,
  run: Omit<WrkRun, "connections">,
): Promise<Figures> {
  const dir = await Deno.makeTempDir({ prefix: "tern-wrk-" });
  try {
    const script = `${dir}/post.lua`;
    const bodyFile = `${dir}/body`;
    await Deno.writeTextFile(script, SCRIPT);
    await Deno.writeFile(bodyFile, typeof run.body === "string" ? new TextEncoder().encode(run.body) : run.body);
    const once = async (seconds: number) => {
      const out = await new Deno.Command("wrk", {
        args: ["-t1", `-c${where.connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, run.url],
        env: { WRK_BODY_FILE: bodyFile, WRK_CONTENT_TYPE: run.contentType, WRK_ACCEPT: run.accept ?? "" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      const line = /WRK_JSON (.*)/.exec(text);
      if (!out.success || !line) throw new Error(`wrk failed: ${text}${new TextDecoder().decode(out.stderr)}`);
      const r = JSON.parse(line[1]);
      if (r.status > 0 || r.socket > 0) {
        throw new Error(`wrk: ${r.status} non-2xx answers, ${r.socket} socket errors from ${run.url}`);
      }
      return r as { requests: number; seconds: number; p50us: number; p99us: number };
    };
    await once(1);
    const r = await once(run.seconds);
    return {
      ...where,
      requests: r.requests,
      perSecond: r.requests / r.seconds,
      p50Ms: r.p50us / 1000,
      p99Ms: r.p99us / 1000,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
