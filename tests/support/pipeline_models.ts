/**
 * @module
 * The models of tests/testdata/pipeline (scripts/make_pipeline_models.py
 * writes them) and the demo forest, as pipeline definitions' parts; and the
 * scaler's SCALE, to send the reference rows in the scaler's units.
 */
import { type ModelArtifact, sha256Hex, uuidFromSha256 } from "../../src/pipeline/spec.ts";

/** What scaler.onnx multiplies each feature by (powers of two: exact in float32). */
export const SCALE = [1, 1, 4, 16, 1, 1, 1, 1, 1, 4, 4, 1, 1, 4, 16, 1, 1, 1];

/** Path of tests/testdata/pipeline/{name}.onnx, or of the demo forest for `forest`. */
export function modelPath(name: string): string {
  return name === "forest"
    ? new URL("../../assets/demo/house-price-estimator.onnx", import.meta.url).pathname
    : new URL(`../testdata/pipeline/${name}.onnx`, import.meta.url).pathname;
}

/** The model file `file` (as modelPath names it) as model `name`. */
export async function artifact(name: string, file = name): Promise<ModelArtifact> {
  const bytes = await Deno.readFile(modelPath(file));
  const sha256 = await sha256Hex(bytes);
  return { name, version: uuidFromSha256(sha256), sha256, bytes };
}

/** Reference rows in the scaler's units: each feature divided by SCALE. */
export function inScalerUnits(rows: number[][]): number[][] {
  return rows.map((row) => row.map((v, i) => v / SCALE[i]));
}
