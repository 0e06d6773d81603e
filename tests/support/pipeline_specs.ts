/**
 * @module
 * Publishing pipeline spec folders with the real `tern publish`, as a user
 * does: a folder holding pipeline.json and its model files, tern started in
 * it; and the independent arithmetic of the linear test models
 * (scripts/make_pipeline_models.py's weights) for checking what tern serves.
 */
import { runTern } from "./tern_process.ts";
import { modelPath } from "./pipeline_models.ts";

/** Weights and bias of tests/testdata/pipeline/linear.onnx and linear_b.onnx (make_pipeline_models.py). */
export const LINEAR = {
  linear: {
    w: [5000, 8000, 150, 0.5, 3000, 200000, 20000, 10000, 30000, 20, 10, 0, 0, 50, 0.125, -500, 10000, -200],
    b: -150000,
  },
  "linear-b": {
    w: [5000, 8000, 150, 0.5, 3000, 200000, 20000, 10000, 30000, 20, 10, 0, 0, 50, 0.125, -500, 10000, -200].map((
      w,
    ) => w * 1.25),
    b: -100000,
  },
};

/** `w·x + b` in float64, on the row as float32 (what the model receives). */
export function linear(model: keyof typeof LINEAR, row: number[]): number {
  const { w, b } = LINEAR[model];
  return row.reduce((sum, x, i) => sum + Math.fround(x) * w[i], b);
}

/**
 * Writes `spec` as pipeline.json into a fresh folder with `files` (name in the folder → a model of
 * tests/testdata/pipeline, or `forest`, or the file's bytes), and runs `tern publish . REFERENCE` there.
 */
export async function publishSpec(
  spec: unknown,
  files: Record<string, string | Uint8Array>,
  reference: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tern-spec-" });
  try {
    for (const [name, model] of Object.entries(files)) {
      if (typeof model === "string") await Deno.copyFile(modelPath(model), `${dir}/${name}`);
      else await Deno.writeFile(`${dir}/${name}`, model);
    }
    await Deno.writeTextFile(`${dir}/pipeline.json`, JSON.stringify(spec, null, 2));
    return await runTern(["publish", ".", reference], env, { cwd: dir });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** FNV-1a 32 of `text`'s UTF-8, written out from its definition (the A/B split's documented key hash). */
export function fnv1a(text: string): number {
  let h = 2166136261;
  for (const byte of new TextEncoder().encode(text)) h = Number((BigInt((h ^ byte) >>> 0) * 16777619n) % 4294967296n);
  return h;
}
