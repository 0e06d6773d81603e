/**
 * OPSCENTER_HOST to a base URL (HTTPS unless loopback or OPS_PLAIN_HTTP; a
 * path is a prefix), and the backoff between retries (doubling, jittered
 * between half and all of the step, capped).
 */
import { Backoff } from "../../src/ops/backoff.ts";
import { withinBytes } from "../../src/ops/page.ts";
import { opsBaseUrl, opsUrl } from "../../src/ops/protocol.ts";
import { assertEquals, assertThrows } from "../support/assert.ts";

Deno.test("OPSCENTER_HOST: HTTPS by default, HTTP for loopback or with OPS_PLAIN_HTTP, a path is kept as a prefix", () => {
  assertEquals(opsUrl(opsBaseUrl("ops.example.com", false), "join"), "https://ops.example.com/v1/join");
  assertEquals(opsUrl(opsBaseUrl("ops.example.com/edge/", false), "logs"), "https://ops.example.com/edge/v1/logs");
  assertEquals(
    opsUrl(opsBaseUrl("https://ops.example.com:8443/a/b", false), "checkin"),
    "https://ops.example.com:8443/a/b/v1/checkin",
  );
  assertEquals(opsUrl(opsBaseUrl("127.0.0.1:8090", false), "join"), "http://127.0.0.1:8090/v1/join");
  assertEquals(opsUrl(opsBaseUrl("localhost:8090/hub", false), "join"), "http://localhost:8090/hub/v1/join");
  assertEquals(opsUrl(opsBaseUrl("[::1]:8090", false), "join"), "http://[::1]:8090/v1/join");
  assertEquals(opsUrl(opsBaseUrl("ops.lan:8090", true), "join"), "http://ops.lan:8090/v1/join");
  assertEquals(opsUrl(opsBaseUrl("https://127.0.0.1:8443", false), "join"), "https://127.0.0.1:8443/v1/join");
  assertThrows(() => opsBaseUrl("http://ops.example.com", false), /plain HTTP to a non-loopback host.*OPS_PLAIN_HTTP/);
  assertEquals(opsBaseUrl("http://ops.example.com", true).protocol, "http:");
  assertThrows(() => opsBaseUrl("ftp://ops.example.com", false), /must be host\[:port\]\[\/path\]/);
  assertThrows(() => opsBaseUrl("/edge", false), /has no host/);
});

Deno.test("backoff doubles from the base up to the cap, each delay between half and all of its step; a success starts over", () => {
  const draws = [0, 0.5, 0.5, 0, 0.5, 0, 0];
  let i = 0;
  const backoff = new Backoff(500, 3000, () => draws[i++]);
  // Steps 500, 1000, 2000, then the cap 3000; each delay is step × (0.5 + draw / 2).
  const delays = draws.slice(1).map(() => backoff.next());
  assertEquals(delays, [250, 750, 1500, 1500, 2250, 1500]);
  backoff.reset();
  assertEquals(backoff.next(), 250);
});

Deno.test("a page is cut short before its JSON passes the byte bound, but always holds one row", () => {
  const row = (id: number, bytes: number) => ({
    id,
    time: 0,
    inJson: `{"x":"${"a".repeat(bytes)}"}`,
    outJson: "{}",
    anomalyCount: 0,
    pipelineName: "p",
    pipelineVersion: "v",
    lastModel: "{}",
    elapsedJson: "[]",
    droppedJson: "[]",
    partition: "e",
    uploaded: 0,
  });
  const rows = [row(1, 400), row(2, 400), row(3, 400)];
  assertEquals(withinBytes(rows, 1000).map((r) => r.id), [1, 2]);
  assertEquals(withinBytes([row(1, 5000), row(2, 1)], 1000).map((r) => r.id), [1]);
  assertEquals(withinBytes(rows).length, 3);
  // Shadow outputs and validation results travel in the page too, and count.
  const shadowed = rows.map((r) => ({
    ...r,
    inJson: "{}",
    shadowJson: `{"s":"${"b".repeat(400)}"}`,
    anomalyJson: "{}",
  }));
  assertEquals(withinBytes(shadowed, 1000).map((r) => r.id), [1, 2]);
});
