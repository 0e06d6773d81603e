/**
 * @module
 * `tern health`: asks the tern serving on this machine (HOST/PORT, as `tern serve` reads them) whether it is ready
 * (`GET /health/ready`), and exits 0 when it answers 200, else 1. A container's HEALTHCHECK runs it: a scratch image
 * has no curl.
 */
import type { Config } from "./config.ts";
import { errorText } from "./errors.ts";

/** How long the check waits for an answer. */
const TIMEOUT_MS = 5_000;

/** The URL `tern health` asks: loopback when tern listens on every address. */
export function healthUrl(config: Pick<Config, "host" | "port">): string {
  const host = config.host === "0.0.0.0" || config.host === ""
    ? "127.0.0.1"
    : config.host === "::"
    ? "[::1]"
    : config.host;
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${config.port}/health/ready`;
}

/** Resolves when tern answers ready; throws naming the URL and what came back otherwise. */
export async function runHealth(config: Config): Promise<void> {
  const url = healthUrl(config);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`health: ${url}: ${errorText(err)}`);
  }
  const body = (await res.text()).trim();
  if (res.status !== 200) throw new Error(`health: ${url} answered ${res.status} ${body}`);
  console.log(`${url}: ${res.status} ${body}`);
}
