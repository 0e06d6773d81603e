/**
 * @module
 * A loopback HTTP proxy in front of a test registry that misbehaves like a
 * flaky edge link. `flaky`: the first blob GET gets a 503, and the first
 * large blob (> 100 KB) is cut off halfway through its body; later requests
 * pass through (Range included). `down`: every request gets a 503, as from a
 * load balancer whose registry is gone. `limited`: every request gets a 429
 * with `Retry-After: 1`, as from a rate-limited registry.
 */

/** A running proxy and what it saw. */
export interface FlakyProxy {
  host: string;
  /** Range headers of GETs of large blobs, in order (null for none). */
  largeBlobRanges: (string | null)[];
  /** When each request arrived (performance.now()). */
  arrivals: number[];
  stop(): Promise<void>;
}

/** Starts the proxy in front of `upstream` (`127.0.0.1:PORT`). */
export function startFlakyProxy(upstream: string, mode: "flaky" | "down" | "limited" = "flaky"): FlakyProxy {
  const largeBlobRanges: (string | null)[] = [];
  const arrivals: number[] = [];
  let blobGets = 0;
  let cut = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    arrivals.push(performance.now());
    if (mode === "down") {
      await req.body?.cancel();
      return new Response("no healthy upstream", { status: 503 });
    }
    if (mode === "limited") {
      await req.body?.cancel();
      return new Response("too many requests", { status: 429, headers: { "retry-after": "1" } });
    }
    const url = new URL(req.url);
    const res = await fetch(`http://${upstream}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
    });
    if (req.method !== "GET" || !url.pathname.includes("/blobs/sha256:")) return res;
    if (++blobGets === 1) {
      await res.body?.cancel();
      return new Response("flaky link", { status: 503 });
    }
    const large = Number(res.headers.get("content-length") ?? 0) > 100_000 ||
      res.headers.get("content-range") !== null;
    if (large) largeBlobRanges.push(req.headers.get("range"));
    if (!large || cut || !res.body) return res;
    cut = true;
    const full = new Uint8Array(await res.arrayBuffer());
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(full.subarray(0, full.length >> 1));
        setTimeout(() => controller.error(new Error("link dropped")), 20);
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  });
  return {
    host: `127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    largeBlobRanges,
    arrivals,
    stop: () => server.shutdown(),
  };
}
