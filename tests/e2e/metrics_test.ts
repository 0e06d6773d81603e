/**
 * GET /metrics through the real process: after known traffic (good and bad
 * inferences on both inference routes, unknown paths), the exposition parses
 * with Prometheus' reference parser and its counts are the traffic's, its
 * log counters are `/logs/status`'s and its model labels are `/models`'.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { parseExposition } from "../support/prometheus.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ref = loadReference();
const JSON_TYPE = "application/json; format=pandas-records";
const PIPELINE = "house-price-estimator";

async function post(url: string, body: string): Promise<number> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": JSON_TYPE }, body });
  await res.body?.cancel();
  return res.status;
}

Deno.test("after known traffic, /metrics parses with Prometheus' parser and counts exactly that traffic", async () => {
  const tern = await startTern();
  try {
    for (let i = 0; i < 5; i++) assertEquals(await post(`${tern.url}/infer`, recordsBody([ref.inputs[i]])), 200);
    assertEquals(await post(`${tern.url}/pipelines/${PIPELINE}`, recordsBody(ref.inputs.slice(5, 8))), 200);
    for (let i = 0; i < 2; i++) assertEquals(await post(`${tern.url}/infer`, JSON.stringify([{ x: 1 }])), 400);
    assertEquals(await post(`${tern.url}/pipelines/another`, recordsBody([ref.inputs[0]])), 404);
    const unknown = await fetch(`${tern.url}/no-such-path`);
    await unknown.body?.cancel();
    assertEquals(unknown.status, 404);

    const res = await fetch(`${tern.url}/metrics`);
    assertEquals(res.status, 200);
    assertMatch(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const m = await parseExposition(await res.text());

    assertEquals(m.types["tern_inference_requests"], "counter");
    assertEquals(m.types["tern_inference_duration_seconds"], "histogram");
    assertEquals(m.types["tern_step_duration_seconds"], "histogram");
    assertEquals(m.types["tern_http_request_duration_seconds"], "histogram");

    const served = { pipeline: PIPELINE, model: PIPELINE };
    assertEquals(m.value("tern_inference_requests_total", served), 6);
    assertEquals(m.value("tern_inference_rows_total", served), 8);
    assertEquals(m.value("tern_inference_duration_seconds_count", served), 6);
    assertEquals(m.value("tern_inference_duration_seconds_bucket", { ...served, le: "+Inf" }), 6);
    assert(m.value("tern_inference_duration_seconds_sum", served) > 0);

    // The step histogram carries the backend /models reports.
    const { models: [model] } = await (await fetch(`${tern.url}/models`)).json();
    const step = { pipeline: PIPELINE, step: "0", model: PIPELINE, backend: model.backend };
    assertEquals(m.value("tern_step_duration_seconds_count", step), 6);
    assertEquals(
      m.value("tern_model_info", { model: PIPELINE, sha256: model.sha, version: model.version, status: "Running" }),
      1,
    );
    assertEquals(m.value("tern_pipeline_info", { pipeline: PIPELINE, status: "Running" }), 1);
    assertEquals(m.value("tern_pipeline_swaps_total"), 0);

    // Requests by route pattern and status; errors by code.
    const http = (route: string, status: string) =>
      m.value("tern_http_requests_total", { method: "POST", route, status });
    assertEquals(http("/infer", "200"), 5);
    assertEquals(http("/infer", "400"), 2);
    assertEquals(http("/pipelines/:name", "200"), 1);
    assertEquals(http("/pipelines/:name", "404"), 1);
    assertEquals(m.value("tern_http_requests_total", { method: "GET", route: "unmatched", status: "404" }), 1);
    assertEquals(m.value("tern_http_request_duration_seconds_count", { method: "POST", route: "/infer" }), 7);
    assertEquals(m.value("tern_errors_total", { code: "missing_column" }), 2);
    assertEquals(m.value("tern_errors_total", { code: "not_found" }), 2);

    // The log's counters are /logs/status's.
    const status = await (await fetch(`${tern.url}/logs/status`)).json();
    assertEquals(status.committedRows, 8);
    assertEquals(m.value("tern_log_rows_committed_total"), 8);
    assertEquals(m.value("tern_log_commits_total"), status.commits);
    assertEquals(m.value("tern_log_rows_evicted_total"), 0);
    assertEquals(m.value("tern_log_rows_pending"), 0);
    assert(m.value("tern_log_bytes") > 0);
    assertEquals(m.value("tern_log_cap_bytes"), 0); // no LOCAL_INFERENCE_STORAGE

    assert(m.value("tern_process_memory_bytes", { kind: "rss" }) > 10 * 2 ** 20);
    assert(m.value("process_resident_memory_bytes") > 10 * 2 ** 20);
    assertEquals(m.find("tern_ops_backlog_rows").length, 0); // no EDGE_BUNDLE
  } finally {
    await tern.stop();
  }
});
