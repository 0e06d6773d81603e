/**
 * @module
 * A worker that probes `GET {url}/health` every 10 ms until told to stop,
 * then posts each probe's latency (ms) and when it was answered (ms since the epoch). It runs on its own event loop, so what it
 * measures is tern's answer time, not the test's own work.
 */
/// <reference lib="deno.worker" />

self.onmessage = async (e: MessageEvent<{ url: string }>) => {
  const probes: { ms: number; at: number }[] = [];
  let probing = true;
  self.onmessage = () => probing = false;
  while (probing) {
    const t0 = performance.now();
    const res = await fetch(`${e.data.url}/health`, { signal: AbortSignal.timeout(10_000) });
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
    probes.push({ ms: performance.now() - t0, at: Date.now() });
    if (probes.length === 1) self.postMessage("probing");
    await new Promise((r) => setTimeout(r, 10));
  }
  self.postMessage(probes);
};
