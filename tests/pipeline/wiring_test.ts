/**
 * Multi-step pipelines on real onnxruntime: a scaler's outputs feed the demo
 * forest by name, or through an explicit mapping; every mismatch is a load
 * error naming both sides, never a positional guess.
 */
import { createApp } from "../../src/server/app.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { modelStep, type PipelineDefinition, type StepDefinition } from "../../src/pipeline/spec.ts";
import { PipelineLoadError } from "../../src/errors.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";
import { artifact, inScalerUnits } from "../support/pipeline_models.ts";
import { loadReference, maxRelativeError } from "../support/reference.ts";

const ref = loadReference();
const VERSION = "3f1c5a4e-8b2d-4c6e-9a7f-1d2e3f4a5b6c";

async function twoStep(scaler: string, step1: Partial<StepDefinition> = {}): Promise<PipelineDefinition> {
  return {
    name: "scaled-house-price",
    version: VERSION,
    steps: [modelStep(await artifact("scaler", scaler)), { ...modelStep(await artifact("forest")), ...step1 }],
  };
}

async function infer(pipelines: PipelineManager, records: unknown[]) {
  const res = await createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20 }).request("/infer", {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: JSON.stringify(records),
  });
  return { status: res.status, body: await res.json() };
}

for (
  const [how, scaler, step1] of [
    ["by name (the scaler's output is the forest's input 'tensor')", "scaler_named", {}],
    ["through the mapping {tensor: converted}", "scaler", { inputs: { tensor: "converted" } }],
  ] as const
) {
  ortTest(`a scaler feeds the forest ${how}: the forest's predictions, one elapsed per step`, async () => {
    const pipelines = new PipelineManager(wasmBackend());
    try {
      await pipelines.load(await twoStep(scaler, step1));
      const rows = ref.inputs.slice(0, 5);
      const { status, body } = await infer(pipelines, inScalerUnits(rows).map((metric) => ({ metric })));
      assertEquals(status, 200, JSON.stringify(body));
      const predictions = body.map((r: { outputs: { Float: { data: number[] } }[] }) => r.outputs[0].Float.data[0]);
      assert(maxRelativeError(predictions, ref.predictions.slice(0, 5)) <= 1e-4, JSON.stringify(predictions));
      assertEquals(body[0].model_name, "forest");
      assertEquals(body[0].elapsed.length, 3); // decoding, then one per step
      assertEquals(body[0].original_data, { metric: inScalerUnits(rows)[0] });
      assertEquals(pipelines.models.map((m) => [m.name, m.status]), [["scaler", "Running"], ["forest", "Running"]]);
    } finally {
      await pipelines.close();
    }
  });
}

ortTest("mismatched steps are load errors naming both sides; the models are listed as not serving", async () => {
  const cases: [string, Partial<StepDefinition>, RegExp][] = [
    [
      "scaler",
      {},
      /step 1 \(model forest\) input 'tensor' \(float32 \[N,18\]\) is fed from 'tensor', which step 0 \(model scaler\) does not output \(its outputs: 'converted' float32 \[N,18\]\); map it: "inputs": \{"tensor": "<output of step 0>"\}/,
    ],
    [
      "scaler",
      { inputs: { tensor: "scaled" } },
      /step 1 \(model forest\) input 'tensor' \(float32 \[N,18\]\) is fed from 'scaled' \(the step's inputs mapping\), which step 0 \(model scaler\) does not output \(its outputs: 'converted' float32 \[N,18\]\)$/,
    ],
    [
      "to_double",
      { inputs: { tensor: "converted" } },
      /step 1 \(model forest\) input 'tensor' \(float32 \[N,18\]\) cannot take step 0 \(model scaler\) output 'converted' \(float64 \[N,18\]\): the dtypes differ/,
    ],
    [
      "scaler",
      { inputs: { features: "converted" } },
      /step 1: the inputs mapping names input 'features', which no model of the step has \(forest: 'tensor' float32 \[N,18\]\)/,
    ],
  ];
  for (const [scaler, step1, message] of cases) {
    const pipelines = new PipelineManager(wasmBackend());
    const err = await pipelines.load(await twoStep(scaler, step1)).then(() => undefined, (e) => e);
    assert(err instanceof PipelineLoadError, String(err));
    assertMatch(err.message, message);
    assertEquals(pipelines.status, "Error");
    assertMatch(pipelines.error!, message);
    for (const m of pipelines.models) {
      assertEquals(m.status, "Error");
      assertMatch(m.error!, /^not serving: step /);
    }
    const { status, body } = await infer(pipelines, [{ metric: new Array(18).fill(1) }]);
    assertEquals(status, 503);
    assertMatch(body.error, message);
  }
});
