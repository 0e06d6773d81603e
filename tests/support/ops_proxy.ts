/**
 * @module
 * A loopback HTTP proxy in front of one or more `tern hub` processes, as a
 * load balancer: requests go round-robin to the upstreams (a down upstream
 * answers 502, as a balancer's would). Optionally it holds the reply of the
 * N-th log upload after the hub has stored the page, so a test can kill the
 * edge in the middle of an upload.
 */

/** A running proxy. */
export interface OpsProxy {
  /** `127.0.0.1:PORT`: the OPSCENTER_HOST edges use. */
  host: string;
  /** Uploads (`POST /v1/logs`) each upstream answered with 200. */
  uploadsBy: number[];
  /** Resolves once the held upload's page is stored and its reply withheld. */
  held: Promise<void>;
  /** Stops holding: later uploads pass through (the held reply is dropped). */
  release(): void;
  stop(): Promise<void>;
}

/** Starts the proxy; `holdUpload`: withhold the reply of that upload (1-based). */
export function startOpsProxy(upstreams: string[], options: { holdUpload?: number } = {}): OpsProxy {
  const uploadsBy = upstreams.map(() => 0);
  let next = 0;
  let uploads = 0;
  let holding = options.holdUpload !== undefined;
  let signalHeld!: () => void;
  const held = new Promise<void>((r) => signalHeld = r);
  let releaseHold!: () => void;
  const released = new Promise<void>((r) => releaseHold = r);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const i = next++ % upstreams.length;
    const url = new URL(req.url);
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
    let res: Response;
    try {
      res = await fetch(`http://${upstreams[i]}${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        body,
      });
    } catch {
      return Response.json({ error: "no healthy upstream" }, { status: 502 });
    }
    const text = await res.text();
    if (req.method === "POST" && url.pathname.endsWith("/v1/logs") && res.status === 200) {
      uploadsBy[i]++;
      if (holding && ++uploads === options.holdUpload) {
        signalHeld();
        await released;
        return Response.json({ error: "the proxy dropped this reply" }, { status: 502 });
      }
    }
    return new Response(text, { status: res.status, headers: res.headers });
  });
  return {
    host: `127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    uploadsBy,
    held,
    release: () => {
      holding = false;
      releaseHold();
    },
    stop: async () => {
      releaseHold();
      await server.shutdown();
    },
  };
}
