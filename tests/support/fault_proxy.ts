/**
 * @module
 * A loopback proxy in front of `tern hub` that misbehaves on log uploads as
 * bad networks and broken balancers do: each of the first uploads meets the
 * next fault of a list (`500`: answered 500 without reaching the hub; `401`:
 * answered 401 without reaching it; `slow`: held for a while, then passed;
 * `drop`: passed to the hub, which stores the page, then the connection is
 * cut in the middle of the reply). Later uploads, and every other request,
 * pass through.
 */

/** A fault the proxy injects into one upload. */
export type UploadFault = "500" | "401" | "slow" | "drop";

/** A running proxy. */
export interface FaultProxy {
  /** `127.0.0.1:PORT`: the OPSCENTER_HOST the edge uses. */
  host: string;
  /** Faults injected so far, in order. */
  injected: UploadFault[];
  stop(): Promise<void>;
}

/** Starts the proxy before `upstream` (`host:port`); `faults` apply to the first uploads, in order. */
export function startFaultProxy(upstream: string, faults: UploadFault[], slowMs = 2_000): FaultProxy {
  const pending = [...faults];
  const injected: UploadFault[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
    const fault = req.method === "POST" && url.pathname.endsWith("/v1/logs") ? pending.shift() : undefined;
    if (fault) injected.push(fault);
    if (fault === "500") return Response.json({ error: "upstream exploded", code: "internal" }, { status: 500 });
    if (fault === "401") return Response.json({ error: "balancer says no", code: "unauthorized" }, { status: 401 });
    if (fault === "slow") await new Promise((r) => setTimeout(r, slowMs));
    const res = await fetch(`http://${upstream}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (fault !== "drop") return new Response(bytes, { status: res.status, headers: res.headers });
    // The hub has stored the page; the edge sees its connection cut halfway through the reply.
    return new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(bytes.subarray(0, bytes.length >> 1));
          controller.error(new Error("connection dropped by the test proxy"));
        },
      }),
      { status: 200, headers: { "content-type": "application/json", "content-length": String(bytes.length) } },
    );
  });
  return {
    host: `127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    injected,
    stop: () => server.shutdown(),
  };
}
