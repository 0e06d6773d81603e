/**
 * @module
 * Engine-neutral tensors: what codecs produce and backends consume. Keeping
 * these free of any onnxruntime type lets codecs, pipeline and server work the
 * same whichever backend runs a model.
 */

/** Element types tern moves between wire formats and backends (ONNX names). */
export type DType =
  | "float32"
  | "float64"
  | "float16"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "bool"
  | "string";

/** The array that holds a tensor's elements, row-major. `bool` is one byte per element. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint32Array
  | BigUint64Array
  | string[];

/** A tensor in host memory. */
export interface HostTensor {
  type: DType;
  data: TensorData;
  dims: number[];
}

/** A model input or output as the model declares it; symbolic dims are strings, unknown ones -1. */
export interface TensorSpec {
  name: string;
  type: DType;
  shape: (number | string)[];
}

/** Constructor of the typed array that holds each numeric dtype (float16 as raw bits). */
export const TYPED_ARRAY = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as const;

/** Allocates the host array for `count` elements of `type` (zeros; strings undefined). */
export function allocate(type: DType, count: number): TensorData {
  return type === "string" ? new Array<string>(count) : new TYPED_ARRAY[type](count);
}

/** Product of dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** The batch size `spec` fixes (its first dim, when a positive number), if it does. */
export function fixedBatchDim(spec: TensorSpec): number | undefined {
  const first = spec.shape[0];
  return typeof first === "number" && first > 0 ? first : undefined;
}

/** `spec`'s shape made concrete: `rows` in a free first (batch) dim, 1 in its other symbolic or unknown dims. */
export function concreteDims(spec: TensorSpec, rows: number): number[] {
  return spec.shape.map((d, i) => typeof d === "number" && d > 0 ? d : i === 0 ? rows : 1);
}

/** Renders a spec like `float32 [N,18]` for error messages and logs. */
export function describeSpec(spec: TensorSpec): string {
  return `${spec.type} [${spec.shape.join(",")}]`;
}
