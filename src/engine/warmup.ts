/**
 * @module
 * Inputs for timing a model before it serves: zeros (empty strings) of the
 * model's own shape, one row, symbolic dims taken as 1.
 */
import { allocate, elementCount, type HostTensor, type TensorSpec } from "./tensor.ts";

/** A zero tensor shaped like `spec` (symbolic or unknown dims = 1). */
export function allocateZeros(spec: TensorSpec): HostTensor {
  const dims = spec.shape.map((d) => typeof d === "number" && d > 0 ? d : 1);
  const data = allocate(spec.type, elementCount(dims));
  if (Array.isArray(data)) data.fill("");
  return { type: spec.type, data, dims };
}
