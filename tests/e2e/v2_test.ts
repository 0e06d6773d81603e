/**
 * The Open Inference Protocol (KServe V2) REST API through the real process,
 * over raw HTTP (no V2 client installs here: tritonclient and kserve come
 * from PyPI), shaped as the protocol's documented examples: server and model
 * metadata, health, an inference whose predictions are `/infer`'s and which
 * is logged (in `/logs`) and counted (in `/metrics`) as `/infer` is, and
 * errors as `{"error": …}`.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { parseExposition } from "../support/prometheus.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ref = loadReference();
const MODEL = "house-price-estimator";

Deno.test("V2: metadata, health, and an inference answered, logged and counted as /infer's", async (t) => {
  const tern = await startTern();
  const get = async (path: string) => {
    const res = await fetch(`${tern.url}${path}`);
    return { status: res.status, body: await res.json() };
  };
  try {
    await t.step("server metadata and health", async () => {
      const server = await get("/v2");
      assertEquals(server.status, 200);
      assertEquals(Object.keys(server.body).sort(), ["extensions", "name", "version"]);
      assertEquals(server.body.name, "tern");
      assertEquals(await get("/v2/health/live"), { status: 200, body: { live: true } });
      assertEquals(await get("/v2/health/ready"), { status: 200, body: { ready: true } });
      assertEquals(await get(`/v2/models/${MODEL}/ready`), { status: 200, body: { name: MODEL, ready: true } });
    });

    let version = "";
    await t.step("model metadata: the pipeline's name, version, inputs and outputs", async () => {
      const { models: [model] } = (await get("/models")).body;
      const meta = await get(`/v2/models/${MODEL}`);
      assertEquals(meta.status, 200);
      version = meta.body.versions[0];
      assertEquals(meta.body, {
        name: MODEL,
        versions: [version],
        platform: "onnxruntime_onnx",
        inputs: [{ name: "tensor", datatype: "FP32", shape: [-1, 18] }],
        outputs: [{ name: "variable", datatype: "FP32", shape: [-1, 1] }],
      });
      assert(model.status === "Running");
      assertEquals((await get(`/v2/models/${MODEL}/versions/${version}`)).body, meta.body);
    });

    await t.step("an inference: the documented reply, /infer's predictions, logged and counted", async () => {
      const rows = ref.inputs.slice(0, 3);
      const before = (await get("/logs/status")).body.committedRows;
      const res = await fetch(`${tern.url}/v2/models/${MODEL}/versions/${version}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          id: "42",
          inputs: [{ name: "tensor", shape: [3, 18], datatype: "FP32", data: rows.flat() }],
          outputs: [{ name: "variable" }],
        }),
      });
      assertEquals(res.status, 200);
      const reply = await res.json();
      assertEquals(Object.keys(reply).sort(), ["id", "model_name", "model_version", "outputs"]);
      assertEquals([reply.model_name, reply.model_version, reply.id], [MODEL, version, "42"]);
      assertEquals(reply.outputs.length, 1);
      const [out] = reply.outputs;
      assertEquals([out.name, out.datatype, out.shape], ["variable", "FP32", [3, 1]]);

      const wallaroo = await (await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json; format=pandas-records" },
        body: recordsBody(rows),
      })).json();
      assertEquals(
        out.data,
        wallaroo.map((r: { outputs: { Float: { data: number[] } }[] }) => r.outputs[0].Float.data[0]),
      );

      // Logged like /infer: three rows from V2 (then three from /infer), holding what was sent.
      const logged =
        await (await fetch(`${tern.url}/logs`, { method: "POST", body: JSON.stringify({ after: before }) }))
          .json();
      assertEquals(logged.length, 6);
      assertEquals(logged[0].in.tensor.map(Math.fround), rows[0].map(Math.fround));
      assertEquals(logged[0].out.variable, [out.data[0]]);

      const m = await parseExposition(await (await fetch(`${tern.url}/metrics`)).text());
      const route = "/v2/models/:model/versions/:version/infer";
      assertEquals(m.value("tern_http_requests_total", { method: "POST", route, status: "200" }), 1);
      assertEquals(m.value("tern_inference_rows_total", { pipeline: MODEL, model: MODEL }), 6);
    });

    await t.step("errors are {error} with a 4xx status", async () => {
      const unknown = await get("/v2/models/nope");
      assertEquals(unknown.status, 404);
      assertEquals(typeof unknown.body.error, "string");
      const res = await fetch(`${tern.url}/v2/models/${MODEL}/infer`, {
        method: "POST",
        body: JSON.stringify({ inputs: [{ name: "tensor", shape: [1, 18], datatype: "FP64", data: ref.inputs[0] }] }),
      });
      const body = await res.json();
      assertEquals(res.status, 400);
      assertEquals(body.error, `input 'tensor' is FP32 in this model (float32); the request says "FP64"`);
    });
  } finally {
    await tern.stop();
  }
});
