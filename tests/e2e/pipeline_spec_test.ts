/**
 * Pipeline specs published with `tern publish` to Debian's docker-registry
 * and served by the real tern: a two-step pipeline (a scaler feeding the demo
 * forest through an `inputs` mapping), and one with an A/B split keyed on a
 * request field, a shadow and two validations. Replies and log rows (JSON and
 * Arrow) are checked field by field against values computed without tern:
 * scikit-learn's predictions for the forest (tests/testdata), plain arithmetic
 * for the linear models, FNV-1a for the split.
 */
import { tableFromIPC } from "apache-arrow";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { inScalerUnits } from "../support/pipeline_models.ts";
import { fnv1a, linear, publishSpec } from "../support/pipeline_specs.ts";
import { loadReference } from "../support/reference.ts";
import { startRegistry } from "../support/registry.ts";
import { startTern } from "../support/tern_process.ts";
import { settledPipelines, startListening } from "../support/tern_listening.ts";

const ref = loadReference();
const JSON_TYPE = "application/json; format=pandas-records";
const ARROW = "application/vnd.apache.arrow.file";

const close = (actual: number, expected: number, tolerance: number) =>
  Math.abs(actual - expected) <= tolerance * Math.abs(expected);

async function post(url: string, path: string, body: unknown, accept = JSON_TYPE): Promise<Response> {
  return await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": JSON_TYPE, accept },
    body: JSON.stringify(body),
  });
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("a two-step pipeline (scaler → forest through an inputs mapping) serves the forest's predictions; unmapped, it is a load error naming both sides", async () => {
  const registry = await startRegistry("none");
  try {
    const spec = (inputs?: Record<string, string>) => ({
      name: "scaled-house-price",
      steps: [{ model: "scaler", file: "scaler.onnx" }, { model: "forest", file: "forest.onnx", inputs }],
    });
    const files = { "scaler.onnx": "scaler", "forest.onnx": "forest" };
    const good = `${registry.host}/pipelines/scaled:v1`;
    const published = await publishSpec(spec({ tensor: "converted" }), files, good);
    assertEquals(published.code, 0, published.stderr);
    const bad = `${registry.host}/pipelines/scaled:unmapped`;
    assertEquals((await publishSpec(spec(), files, bad)).code, 0);

    const tern = await startTern({ env: { PIPELINE_URL: good } });
    try {
      const rows = ref.inputs.slice(0, 40);
      const res = await post(
        tern.url,
        "/pipelines/scaled-house-price",
        inScalerUnits(rows).map((metric) => ({ metric })),
      );
      assertEquals(res.status, 200);
      const replies = await res.json();
      assertEquals(replies.length, 40);
      for (const [i, r] of replies.entries()) {
        assert(close(r.outputs[0].Float.data[0], ref.predictions[i], 1e-4), `row ${i}: ${r.outputs[0].Float.data[0]}`);
        assertEquals(r.outputs[0].Float.dim, [1, 1]);
        assertEquals([r.model_name, r.pipeline_name, r.elapsed.length], ["forest", "scaled-house-price", 3]);
        assertEquals(r.check_failures, []);
        assertEquals(r.shadow_data, {});
      }
      const logged = await (await post(tern.url, "/logs", {})).json();
      assertEquals(logged.length, 40);
      for (const [i, row] of logged.entries()) {
        assertEquals(row.in.metric.map(Math.fround), inScalerUnits(rows)[i].map(Math.fround));
        assert(close(row.out.variable[0], ref.predictions[i], 1e-4));
        assertEquals(row.anomaly, { count: 0 });
        assertEquals(JSON.parse(row.metadata.last_model).model_name, "forest");
        assertEquals(row.metadata.elapsed.length, 3);
      }
    } finally {
      await tern.stop();
    }

    const unmapped = await startListening({ PIPELINE_URL: bad });
    try {
      const said =
        /step 1 \(model forest\) input 'tensor' \(float32 \[N,18\]\) is fed from 'tensor', which step 0 \(model scaler\) does not output \(its outputs: 'converted' float32 \[N,18\]\)/;
      const [listed] = await settledPipelines(unmapped.url);
      assertEquals([listed.id, listed.status], ["scaled-house-price", "Error"]);
      const models = (await (await fetch(`${unmapped.url}/models`)).json()).models;
      assertEquals(models.map((m: { status: string }) => m.status), ["Error", "Error"]);
      assertMatch(models[0].error, said);
      const refused = await post(unmapped.url, "/infer", [{ metric: ref.inputs[0] }]);
      assertEquals(refused.status, 503);
      assertMatch((await refused.json()).error, said);
      assertMatch(unmapped.output(), new RegExp(`Pipeline failed to load: ${said.source}`));
    } finally {
      await unmapped.stop();
    }
  } finally {
    await registry.stop();
  }
});

Deno.test("an A/B split keyed on a request field, a shadow and two validations: replies and log rows field by field", async () => {
  const registry = await startRegistry("none");
  try {
    const reference = `${registry.host}/pipelines/house-ab:v1`;
    const VALIDATIONS = {
      too_high: "variable[0] > 500000.0",
      cheap_big_house: "in.tensor[2] > 2500.0 and variable[0] < 450000.0",
    };
    const published = await publishSpec(
      {
        name: "house-ab",
        steps: [{
          split: {
            key: "region",
            variants: [{ model: "forest", file: "forest.onnx", weight: 3 }, {
              model: "linear",
              file: "linear.onnx",
              weight: 2,
            }],
          },
          shadows: [{ model: "linear-b", file: "linear_b.onnx" }],
        }],
        validations: VALIDATIONS,
      },
      { "forest.onnx": "forest", "linear.onnx": "linear", "linear_b.onnx": "linear_b" },
      reference,
    );
    assertEquals(published.code, 0, published.stderr);

    const tern = await startTern({ env: { PIPELINE_URL: reference } });
    try {
      const models = (await (await fetch(`${tern.url}/models`)).json()).models as { name: string; version: string }[];
      assertEquals(models.map((m) => m.name), ["forest", "linear", "linear-b"]);
      const version = (name: string) => models.find((m) => m.name === name)!.version;
      const shas: Record<string, string> = {
        forest: await sha256(new URL("../../assets/demo/house-price-estimator.onnx", import.meta.url).pathname),
        linear: await sha256(new URL("../testdata/pipeline/linear.onnx", import.meta.url).pathname),
      };

      const regions = ["north", "south", "east", "west", "centre", "harbour", "hills", "lake"];
      const expected: { variant: string; value: number; shadow: number; failures: string[]; row: number }[] = [];
      for (const [i, region] of regions.entries()) {
        const variant = fnv1a(region) % 5 < 3 ? "forest" : "linear";
        const value = variant === "forest" ? ref.predictions[i] : linear("linear", ref.inputs[i]);
        const failures = [
          ...(value > 500000 ? ["too_high"] : []),
          ...(ref.inputs[i][2] > 2500 && value < 450000 ? ["cheap_big_house"] : []),
        ];
        expected.push({ variant, value, shadow: linear("linear-b", ref.inputs[i]), failures, row: i });
      }
      assertEquals(new Set(expected.map((e) => e.variant)).size, 2, "both variants serve some regions");
      assert(expected.some((e) => e.failures.length > 0) && expected.some((e) => e.failures.length === 0));

      for (const e of expected) {
        const res = await post(tern.url, "/infer", [{ tensor: ref.inputs[e.row], region: regions[e.row] }]);
        assertEquals(res.status, 200);
        const [r] = await res.json();
        assertEquals([r.model_name, r.model_version, r.pipeline_name], [e.variant, version(e.variant), "house-ab"]);
        assert(close(r.outputs[0].Float.data[0], e.value, e.variant === "forest" ? 1e-4 : 1e-5), JSON.stringify(r));
        assertEquals(r.outputs[0].Float.dim, [1, 1]);
        assertEquals(Object.keys(r.shadow_data), ["linear-b"]);
        const [shadow] = r.shadow_data["linear-b"];
        assert(close(shadow.Float.data[0], e.shadow, 1e-5), JSON.stringify(shadow));
        assertEquals([shadow.Float.dim, shadow.Float.v], [[1, 1], 1]);
        assertEquals(r.check_failures, e.failures);
        assertEquals(r.elapsed.length, 2);
        assertEquals(r.original_data.region, regions[e.row]);
      }

      // The same as Arrow: check_failures a list column, shadow_data the same JSON.
      const first = expected[0];
      const arrow = await post(
        tern.url,
        "/infer",
        [{ tensor: ref.inputs[first.row], region: regions[first.row] }],
        ARROW,
      );
      const table = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()));
      assertEquals(table.getChild("check_failures")!.get(0)!.toArray(), first.failures);
      assertEquals(table.getChild("model_name")!.get(0), first.variant);
      assert(close(JSON.parse(table.getChild("shadow_data")!.get(0))["linear-b"][0].Float.data[0], first.shadow, 1e-5));

      const all = [...expected, first];
      const logged = await (await post(tern.url, "/logs", {})).json();
      assertEquals(logged.length, all.length);
      for (const [i, row] of logged.entries()) {
        const e = all[i];
        assertEquals(row.anomaly, {
          count: e.failures.length,
          too_high: e.failures.includes("too_high"),
          cheap_big_house: e.failures.includes("cheap_big_house"),
        });
        assert(close(row.out.variable[0], e.value, e.variant === "forest" ? 1e-4 : 1e-5));
        assert(close(row.shadow_data["linear-b"].variable[0], e.shadow, 1e-5));
        assertEquals(JSON.parse(row.metadata.last_model), { model_name: e.variant, model_sha: shas[e.variant] });
      }

      const page = await post(tern.url, "/logs", {}, ARROW);
      const rows = tableFromIPC(new Uint8Array(await page.arrayBuffer()));
      assertEquals(
        rows.schema.fields.map((f) => f.name).filter((n) => n.startsWith("anomaly.") || n === "shadow_data"),
        ["anomaly.count", "anomaly.cheap_big_house", "anomaly.too_high", "shadow_data"],
      );
      for (const [i, e] of all.entries()) {
        assertEquals(rows.getChild("anomaly.count")!.get(i), e.failures.length);
        assertEquals(rows.getChild("anomaly.too_high")!.get(i), e.failures.includes("too_high"));
        assertEquals(rows.getChild("anomaly.cheap_big_house")!.get(i), e.failures.includes("cheap_big_house"));
        assert(close(JSON.parse(rows.getChild("shadow_data")!.get(i))["linear-b"].variable[0], e.shadow, 1e-5));
      }
    } finally {
      await tern.stop();
    }
  } finally {
    await registry.stop();
  }
});
