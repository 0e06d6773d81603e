import { assertEquals, assertThrows } from "../support/assert.ts";
import { Counter, Histogram, Registry } from "prom-client";
import { HotCounter, HotHistogram } from "../../src/server/hot_metrics.ts";
import { LATENCY_BUCKETS } from "../../src/server/http_metrics.ts";
import { parseExposition } from "../support/prometheus.ts";

/** The same observations through prom-client's own metrics and the hot ones, in two registries. */
function both(observations: [string, string, number][]) {
  const options = (registry: Registry) => ({ help: "h", labelNames: ["pipeline", "model"], registers: [registry] });
  const reference = new Registry();
  const refCount = new Counter({ name: "x_total", ...options(reference) });
  const refTime = new Histogram({ name: "x_seconds", buckets: LATENCY_BUCKETS, ...options(reference) });
  const hot = new Registry();
  const hotCount = new HotCounter({ name: "x_total", ...options(hot) });
  const hotTime = new HotHistogram({ name: "x_seconds", buckets: LATENCY_BUCKETS, ...options(hot) });
  for (const [pipeline, model, seconds] of observations) {
    refCount.labels(pipeline, model).inc(2);
    refTime.labels(pipeline, model).observe(seconds);
    hotCount.labels(pipeline, model).inc(2);
    hotTime.labels(pipeline, model).observe(seconds);
  }
  return { reference, hot, hotCount, hotTime };
}

const sorted = (samples: { name: string; labels: Record<string, string>; value: number }[]) =>
  samples.map((s) => JSON.stringify([s.name, Object.entries(s.labels).sort(), s.value])).sort();

Deno.test("hot counters and histograms write what prom-client's write for the same observations", async () => {
  const observations: [string, string, number][] = [
    ["p", "m", 0.0001], // on a bound: counted in that bucket
    ["p", "m", 0.0003],
    ["p", "m", 12], // past every bound: +Inf only
    ["p", "other", 0.5],
    ['q"\\', "m\n", 0.0000001], // label values that need escaping
  ];
  const { reference, hot } = both(observations);
  const [want, got] = await Promise.all(
    [reference.metrics(), hot.metrics()].map(async (t) => parseExposition(await t)),
  );
  assertEquals(got.types, want.types);
  assertEquals(sorted(got.samples), sorted(want.samples));
  assertEquals(got.value("x_seconds_bucket", { pipeline: "p", model: "m", le: "0.0001" }), 1);
  assertEquals(got.value("x_seconds_bucket", { pipeline: "p", model: "m", le: "10" }), 2);
  assertEquals(got.value("x_seconds_count", { pipeline: "p", model: "m" }), 3);
});

Deno.test("a hot metric's children are bound once, zeroed by a registry reset, take every label, ignore non-numbers", async () => {
  const { hot, hotCount, hotTime } = both([["p", "m", 0.002]]);
  const child = hotTime.labels("p", "m");
  assertEquals(child, hotTime.labels("p", "m"));
  hot.resetMetrics();
  child.observe(0.002);
  child.observe(NaN); // not a number a request could take: ignored, as is a negative count
  hotCount.labels("p", "m").inc();
  hotCount.labels("p", "m").inc(-5);
  const parsed = await parseExposition(await hot.metrics());
  assertEquals(parsed.value("x_seconds_count", { pipeline: "p", model: "m" }), 1);
  assertEquals(parsed.value("x_total", { pipeline: "p", model: "m" }), 1);
  assertThrows(() => hotCount.labels("p"), /takes 2 label values, got 1/);
});
