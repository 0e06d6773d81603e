/**
 * @module
 * The built-in demo pipeline, served when no PIPELINE_URL is set:
 * `house-price-estimator`, a random-forest regressor (input `tensor` float32
 * [N,18], output `variable` float32 [N,1]) trained by
 * scripts/train_demo_model.py. Its versions are derived from the model's
 * sha256, so they change exactly when the model does.
 */
import { modelStep, type PipelineDefinition, sha256Hex, uuidFromSha256 } from "./spec.ts";

/** Name of the demo pipeline and of its one model. */
export const DEMO_PIPELINE_NAME = "house-price-estimator";

/** The demo model file, embedded in the compiled binary. */
export const DEMO_MODEL_URL = new URL(
  "../../assets/demo/house-price-estimator.onnx",
  import.meta.url,
);

/** Reads the embedded demo model and describes the demo pipeline. */
export async function demoPipeline(): Promise<PipelineDefinition> {
  const bytes = await Deno.readFile(DEMO_MODEL_URL);
  const sha256 = await sha256Hex(bytes);
  return {
    name: DEMO_PIPELINE_NAME,
    version: uuidFromSha256(
      await sha256Hex(
        new TextEncoder().encode(`pipeline:${DEMO_PIPELINE_NAME}:${sha256}`),
      ),
    ),
    steps: [modelStep({
      name: DEMO_PIPELINE_NAME,
      version: uuidFromSha256(sha256),
      sha256,
      bytes,
    })],
  };
}
