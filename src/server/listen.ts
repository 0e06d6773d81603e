/**
 * @module
 * Where `tern serve` listens: plain HTTP, or HTTPS with TLS_CERT and TLS_KEY.
 * On SIGHUP the two files are read again and, when both read, the listener
 * stops accepting (its connections finish their requests) and a new one with
 * the new certificate takes the same port at once: renewing a certificate
 * needs no restart and ends no request. (Deno's SO_REUSEPORT for TLS, which
 * would close the moment in between, is unstable; a connection attempted in
 * it is refused and retried by the client.) Files that do not read keep the
 * certificate in use, and say so.
 */
import { errorText } from "../errors.ts";

/** What listen needs. */
export interface ListenOptions {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string };
  handler: (request: Request) => Response | Promise<Response>;
  info(line: string): void;
  error(line: string): void;
}

/** A listening server, through however many certificate reloads. */
export interface Listener {
  /** Stops accepting and finishes the requests in flight. */
  shutdown(): Promise<void>;
  /** Settles once shut down. */
  finished: Promise<void>;
}

/** How many times (10 ms apart) a reload tries to take the port back. */
const REBIND_TRIES = 500;

/** Reads the PEM pair; throws naming the file that does not read (never its content). */
function readPair(tls: { certFile: string; keyFile: string }): { cert: string; key: string } {
  const read = (name: string, file: string) => {
    try {
      return Deno.readTextFileSync(file);
    } catch (err) {
      throw new Error(`${name}='${file}' cannot be read (${(err as Error).name})`);
    }
  };
  return { cert: read("TLS_CERT", tls.certFile), key: read("TLS_KEY", tls.keyFile) };
}

/** Starts listening; with TLS, SIGHUP reloads the certificate. */
export function listen(options: ListenOptions): Listener {
  const { tls } = options;
  const scheme = tls ? "https" : "http";
  let port = options.port;
  const start = (pair: { cert: string; key: string } | undefined, announce: boolean) =>
    Deno.serve({
      hostname: options.host,
      port,
      ...pair,
      onListen: (addr) => {
        port = addr.port;
        if (announce) options.info(`Listening on ${scheme}://${addr.hostname}:${addr.port}`);
      },
    }, options.handler);
  let server = start(tls && readPair(tls), true);
  let stopped = false;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => done = resolve);
  const reload = async () => {
    if (!tls || stopped) return;
    let pair;
    try {
      pair = readPair(tls);
    } catch (err) {
      options.error(`SIGHUP: the TLS certificate was not reloaded, the one in use stays: ${errorText(err)}`);
      return;
    }
    const old = server;
    const finishing = old.shutdown();
    // The old listener closes as its shutdown begins; until then the port may still be held.
    for (let attempt = 0;; attempt++) {
      try {
        server = start(pair, false);
        break;
      } catch (err) {
        if (!(err instanceof Deno.errors.AddrInUse) || attempt >= REBIND_TRIES) {
          options.error(`SIGHUP: cannot listen on port ${port} again: ${errorText(err)}; stopping`);
          Deno.exit(1);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    options.info(`SIGHUP: TLS certificate reloaded from ${tls.certFile}`);
    await finishing;
  };
  if (tls) Deno.addSignalListener("SIGHUP", () => void reload());
  return {
    finished,
    async shutdown() {
      stopped = true;
      try {
        await server.shutdown();
      } finally {
        done();
      }
    },
  };
}
