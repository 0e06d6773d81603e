/**
 * @module
 * Log entries shaped like the demo pipeline's, for writer and cap tests.
 */
import type { LogEntry } from "../../src/logs/entry.ts";

/** An entry of `rows` demo-shaped rows whose first feature is `marker + row`. */
export function demoEntry(marker: number, rows = 1, time = 1_700_000_000_000): LogEntry {
  const input = new Float32Array(rows * 18).fill(1.5);
  for (let r = 0; r < rows; r++) input[r * 18] = marker + r;
  return {
    reply: {
      pipelineName: "house-price-estimator",
      modelName: "house-price-estimator",
      modelVersion: "1767147f-40e5-882e-aa8a-aeb70d699a79",
      time,
      elapsedNs: [1000, 2000],
      outputs: [["variable", { type: "float32", data: new Float32Array(rows).fill(123456.5), dims: [rows, 1] }]],
      input: {
        rows,
        tensors: { tensor: { type: "float32", data: input, dims: [rows, 18] } },
        originalData: () => null,
      },
    },
    pipelineVersion: "93b40260-eb39-82fc-aa6c-95032e198b82",
    modelSha: "1767147f40e5f82e6a8aaeb70d699a79191085e30d579dc97fe0ae4e8e9b31a5",
  };
}
