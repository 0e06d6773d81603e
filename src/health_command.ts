/**
 * @module
 * `tern health`: asks the tern serving on this machine (HOST/PORT, as `tern serve` reads them) whether it is ready
 * (`GET /health/ready`), and exits 0 when it answers 200, else 1. A container's HEALTHCHECK runs it: a scratch image
 * has no curl. With TLS_CERT it speaks HTTPS, without checking the certificate: it asks its own process at the
 * address it serves on and sends no credentials, and a check that trusted the certificate would fail for
 * certificates that serve clients well (a private CA's leaf whose root only the clients hold; a self-signed
 * certificate marked as a CA, which rustls refuses as a server's).
 */
import tls from "node:tls";
import type { Config } from "./config.ts";
import { errorText } from "./errors.ts";

/** How long the check waits for an answer. */
const TIMEOUT_MS = 5_000;

/** The host `tern health` asks: loopback when tern listens on every address. */
function probeHost(config: Pick<Config, "host">): string {
  return config.host === "0.0.0.0" || config.host === "" ? "127.0.0.1" : config.host === "::" ? "::1" : config.host;
}

/** The URL `tern health` asks (https with TLS_CERT). */
export function healthUrl(config: Pick<Config, "host" | "port" | "tls">): string {
  const host = probeHost(config);
  const scheme = config.tls ? "https" : "http";
  return `${scheme}://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${config.port}/health/ready`;
}

/** Resolves when tern answers ready; throws naming the URL and what came back otherwise. */
export async function runHealth(config: Config): Promise<void> {
  const url = healthUrl(config);
  let answer: { status: number; body: string };
  try {
    answer = config.tls ? await askOverTls(probeHost(config), config.port) : await askOverHttp(url);
  } catch (err) {
    throw new Error(`health: ${url}: ${errorText(err)}`);
  }
  if (answer.status !== 200) throw new Error(`health: ${url} answered ${answer.status} ${answer.body}`);
  console.log(`${url}: ${answer.status} ${answer.body}`);
}

async function askOverHttp(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return { status: res.status, body: (await res.text()).trim() };
}

/** GET /health/ready over TLS (certificate not checked: see the module doc), HTTP/1.1 with Connection: close. */
function askOverTls(host: string, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false }, () => {
      socket.write(
        `GET /health/ready HTTP/1.1\r\nHost: ${host.includes(":") ? `[${host}]` : host}:${port}\r\n` +
          "Connection: close\r\n\r\n",
      );
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => text += chunk);
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("end", () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!status) return reject(new Error("the answer is not HTTP"));
      const body = text.slice(text.indexOf("\r\n\r\n") + 4).trim();
      resolve({ status: Number(status[1]), body });
    });
  });
}
