/**
 * @module
 * Where `tern serve` listens: plain HTTP, or HTTPS with TLS_CERT and TLS_KEY.
 * On SIGHUP the two files are read again and, when both read, the listener
 * stops accepting (its connections finish their requests) and a new one with
 * the new certificate takes the same port at once: renewing a certificate
 * needs no restart and ends no request. (Deno's SO_REUSEPORT for TLS, which
 * would close the moment in between, is unstable; a connection attempted in
 * it is refused and retried by the client.) Files that do not read, or are
 * not a PEM certificate and its key, keep the certificate in use, and say so.
 */
import { ConfigError, errorText } from "../errors.ts";

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

/**
 * Reads the PEM pair and has rustls take it, as Deno.serve will; throws a ConfigError naming the file that does not
 * read, or both when they are not a certificate and its key (never their content).
 */
function readPair(tls: { certFile: string; keyFile: string }): { cert: string; key: string } {
  const read = (name: string, file: string) => {
    try {
      return Deno.readTextFileSync(file);
    } catch (err) {
      throw new ConfigError(`${name}='${file}' cannot be read (${(err as Error).name})`);
    }
  };
  const pair = { cert: read("TLS_CERT", tls.certFile), key: read("TLS_KEY", tls.keyFile) };
  try {
    Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...pair }).close();
  } catch (err) {
    if (!(err instanceof Deno.errors.InvalidData)) return pair; // not checked here (no IPv4 loopback?): Deno.serve will
    throw new ConfigError(
      `TLS_CERT='${tls.certFile}' and TLS_KEY='${tls.keyFile}' are not a PEM certificate (chain) and its private key: ${err.message}`,
    );
  }
  return pair;
}

/**
 * A start-up listen failure, naming the setting to change (a ConfigError) where one is wrong; `names`: the settings
 * (the hub's are HUB_HOST and HUB_PORT).
 */
export function listenError(
  err: unknown,
  host: string,
  port: number,
  names: { host: string; port: string } = { host: "HOST", port: "PORT" },
): Error {
  const why = errorText(err);
  if (err instanceof Deno.errors.AddrInUse) {
    return new Error(`cannot listen on ${host}:${port}: the port is in use by another process (${why})`);
  }
  if (err instanceof Deno.errors.AddrNotAvailable) {
    return new ConfigError(`${names.host}='${host}' is not an address of this machine (${why})`);
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new ConfigError(
      `${names.port}=${port}: this process may not listen on it (${why}); ports below 1024 need privileges`,
    );
  }
  if (/failed to lookup address/.test(why)) return new ConfigError(`${names.host}='${host}' does not resolve (${why})`);
  return err instanceof Error ? err : new Error(why);
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
        const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname; // IPv6 as a URL writes it
        if (announce) options.info(`Listening on ${scheme}://${host}:${addr.port}`);
      },
    }, options.handler);
  let server: Deno.HttpServer;
  const pair = tls && readPair(tls);
  try {
    server = start(pair, true);
  } catch (err) {
    throw listenError(err, options.host, port);
  }
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
