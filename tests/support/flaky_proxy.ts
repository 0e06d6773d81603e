/**
 * @module
 * A loopback HTTP proxy in front of a test registry that misbehaves like a
 * flaky edge link: the first blob GET gets a 503, the second is cut off
 * halfway through its body. Later requests pass through (Range included).
 */

/** A running proxy and what it saw. */
export interface FlakyProxy {
  host: string;
  /** Range headers of blob GETs, in order (null for none). */
  blobRanges: (string | null)[];
  stop(): Promise<void>;
}

/** Starts the proxy in front of `upstream` (`127.0.0.1:PORT`). */
export function startFlakyProxy(upstream: string): FlakyProxy {
  const blobRanges: (string | null)[] = [];
  let blobGets = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const isBlobGet = req.method === "GET" && url.pathname.includes("/blobs/sha256:");
    const big = isBlobGet && !url.pathname.endsWith("/uploads/");
    const forward = () =>
      fetch(`http://${upstream}${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        redirect: "manual",
      });
    if (!big) return await forward();
    blobGets++;
    blobRanges.push(req.headers.get("range"));
    if (blobGets === 1) return new Response("flaky link", { status: 503 });
    const res = await forward();
    if (blobGets !== 2 || !res.body) return res;
    // Send half of the body, then drop the connection.
    const full = new Uint8Array(await res.arrayBuffer());
    const half = full.subarray(0, full.length >> 1);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(half);
        setTimeout(() => controller.error(new Error("link dropped")), 20);
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  });
  return {
    host: `127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    blobRanges,
    stop: () => server.shutdown(),
  };
}
