/**
 * @module
 * The Open Inference Protocol (KServe V2, as Triton, KServe, MLServer and
 * OpenVINO Model Server speak it) in JSON: inference requests
 * `{"id"?, "parameters"?, "inputs": [{"name","shape","datatype","data"}], "outputs"?: [{"name"}]}`
 * decoded into the pipeline's input tensors, replies
 * `{"model_name","model_version","id"?,"outputs":[{"name","shape","datatype","data"}]}`,
 * and model metadata `{"name","versions","platform","inputs","outputs"}`.
 * `data` is row-major, flat or nested; its datatype must be the model's
 * (`FP32` for float32 …, `BYTES` for strings), as the protocol's servers
 * require. The binary tensor extension is not spoken.
 */
import { BadInput } from "../errors.ts";
import { allocate, type DType, elementCount, type HostTensor, type TensorSpec } from "../engine/tensor.ts";
import { elementWriter } from "./convert.ts";
import { type DecodedInput, missingColumn, tooManyRows } from "./decoded_input.ts";
import { valueWriter } from "./reply.ts";

/** The V2 datatype of each dtype. */
export const V2_DATATYPE: Record<DType, string> = {
  bool: "BOOL",
  uint8: "UINT8",
  uint16: "UINT16",
  uint32: "UINT32",
  uint64: "UINT64",
  int8: "INT8",
  int16: "INT16",
  int32: "INT32",
  int64: "INT64",
  float16: "FP16",
  float32: "FP32",
  float64: "FP64",
  string: "BYTES",
};

/** A decoded V2 inference request. */
export interface V2Request {
  /** The request's `id`, echoed in the reply. */
  id?: string;
  input: DecodedInput;
  /** The outputs asked for, in the order asked; undefined: every output. */
  outputs?: string[];
}

/** Deepest nesting of `data` read. */
const MAX_DEPTH = 32;

/**
 * Reads a V2 inference request for a pipeline whose inputs are `specs` and
 * outputs `outputs`; more than `maxRows` rows (the batch dimension) is a 413.
 */
export function decodeV2Request(
  text: string,
  specs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
  maxRows = Infinity,
): V2Request {
  if (text.trim() === "") {
    throw new BadInput(
      'request body is empty: send an inference request {"inputs": [{"name", "shape", "datatype", "data"}, …]}',
      "empty_body",
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadInput(`body is not valid JSON: ${(err as Error).message}`, "invalid_json");
  }
  if (!isObject(body) || !Array.isArray(body.inputs)) {
    throw new BadInput(
      'expected an inference request {"inputs": [{"name", "shape", "datatype", "data"}, …]}',
      "bad_input",
    );
  }
  // Optional fields sent as null (as some clients write unset ones) are absent.
  const id = body.id ?? undefined;
  if (id !== undefined && typeof id !== "string") throw new BadInput("'id' must be a string", "bad_input");
  const parameters = body.parameters ?? undefined;
  if (parameters !== undefined && !isObject(parameters)) {
    throw new BadInput("'parameters' must be an object", "bad_input");
  }
  const sent = new Map<string, Record<string, unknown>>();
  for (const [i, input] of body.inputs.entries()) {
    if (!isObject(input) || typeof input.name !== "string") {
      throw new BadInput(`inputs[${i}] must be an object with a 'name'`, "bad_input");
    }
    if (sent.has(input.name)) throw new BadInput(`input '${input.name}' is given twice`, "bad_input");
    if (!specs.some((s) => s.name === input.name)) {
      throw new BadInput(
        `unexpected input '${input.name}'; the model's inputs: ${specs.map((s) => `'${s.name}'`).join(", ")}`,
        "bad_input",
      );
    }
    sent.set(input.name, input);
  }
  let rows: number | undefined;
  const tensors: Record<string, HostTensor> = {};
  for (const spec of specs) {
    const input = sent.get(spec.name);
    if (!input) throw missingColumn("the request", spec, [...sent.keys()]);
    const tensor = decodeTensor(input, spec, maxRows);
    const batch = tensor.dims[0];
    if (rows === undefined) rows = batch;
    else if (batch !== rows) {
      throw new BadInput(
        `input '${spec.name}' has ${batch} rows (shape[0]) and '${specs[0].name}' ${rows}: every input needs the same`,
        "wrong_shape",
      );
    }
    tensors[spec.name] = tensor;
  }
  if (!rows) throw new BadInput("the request has no rows (shape[0] is 0)", "no_rows");
  return {
    id,
    input: { rows, tensors, originalData: () => null, parameters },
    outputs: requestedOutputs(body.outputs ?? undefined, outputs),
  };
}

/**
 * One input's tensor: its declared shape against the model's (and its rows against `maxRows`, a 413), its datatype,
 * then `data` into the model's dtype.
 */
function decodeTensor(input: Record<string, unknown>, spec: TensorSpec, maxRows: number): HostTensor {
  const name = spec.name;
  const want = V2_DATATYPE[spec.type];
  if (input.datatype !== want) {
    throw new BadInput(
      `input '${name}' is ${want} in this model (${spec.type}); the request ${
        input.datatype === undefined ? "gives no 'datatype'" : `says ${JSON.stringify(input.datatype)}`
      }`,
      "wrong_dtype",
    );
  }
  const shape = input.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new BadInput(`input '${name}': 'shape' must be a list of whole numbers ≥ 0`, "wrong_shape");
  }
  const modelShape = `[${spec.shape.map((d) => typeof d === "number" && d >= 0 ? d : -1).join(",")}]`;
  if (shape.length !== spec.shape.length) {
    throw new BadInput(
      `input '${name}' has shape ${modelShape} in this model (-1: any); the request says [${shape.join(",")}]`,
      "wrong_shape",
    );
  }
  for (let k = 1; k < shape.length; k++) {
    const d = spec.shape[k];
    if (typeof d === "number" && d >= 0 && d !== shape[k]) {
      throw new BadInput(
        `input '${name}' has shape ${modelShape} in this model (-1: any); the request says [${shape.join(",")}]`,
        "wrong_shape",
      );
    }
  }
  const dims = shape as number[];
  if (dims[0] > maxRows) throw tooManyRows(dims[0], maxRows);
  const count = elementCount(dims);
  if (!Array.isArray(input.data)) {
    throw new BadInput(`input '${name}': 'data' must be a list (row-major, flat or nested)`, "wrong_shape");
  }
  // Counted before anything is allocated: the shape alone may claim more than memory holds, the data cannot
  // (it came in the body).
  const sentCount = leafCount(input.data, name);
  if (sentCount !== count) {
    throw new BadInput(
      `input '${name}' has ${sentCount} elements in 'data'; its shape [${dims.join(",")}] holds ${count}`,
      "wrong_shape",
    );
  }
  checkNesting(input.data, dims, 0, name);
  const data = allocate(spec.type, count);
  const write = elementWriter(spec.type);
  let n = 0;
  const where = () => `input '${name}', element ${n}`;
  const fill = (values: unknown[]) => {
    for (const v of values) {
      if (Array.isArray(v)) fill(v);
      else {
        write(data, n, v, where);
        n++;
      }
    }
  };
  fill(input.data);
  return { type: spec.type, data, dims };
}

/**
 * Nested `data` follows the shape: a list of lists has as many as the shape's dim at its depth, and a list of
 * values as many as the dims from there hold (so rows may come flat, `[[18 values], …]` for [N,18]); lists and
 * values are not mixed. Flat data is one list of values.
 */
function checkNesting(values: unknown[], dims: readonly number[], depth: number, name: string): void {
  const lists = values.reduce<number>((n, v) => n + (Array.isArray(v) ? 1 : 0), 0);
  const shape = `[${dims.join(",")}]`;
  const fail = (what: string) =>
    new BadInput(`input '${name}': 'data' does not follow its shape ${shape}: ${what}`, "wrong_shape");
  if (lists === 0) {
    const held = dims.slice(depth).reduce((a, b) => a * b, 1);
    if (values.length !== held) {
      throw fail(`a list at depth ${depth} holds ${values.length} values where the shape gives ${held}`);
    }
    return;
  }
  if (lists !== values.length) throw fail(`a list at depth ${depth} mixes lists and values`);
  if (depth >= dims.length) throw fail(`it nests deeper than the shape's ${dims.length} dimensions`);
  if (values.length !== dims[depth]) {
    throw fail(`a list at depth ${depth} holds ${values.length} lists where the shape gives ${dims[depth]}`);
  }
  for (const v of values) checkNesting(v as unknown[], dims, depth + 1, name);
}

/** The values in a nested `data` list (lists at most MAX_DEPTH deep). */
function leafCount(values: unknown[], name: string, depth = 1): number {
  if (depth > MAX_DEPTH) throw new BadInput(`input '${name}': 'data' nests deeper than ${MAX_DEPTH}`, "wrong_shape");
  let n = 0;
  for (const v of values) n += Array.isArray(v) ? leafCount(v, name, depth + 1) : 1;
  return n;
}

/** The names in `outputs: [{"name"}]`, each one of the model's. */
function requestedOutputs(asked: unknown, outputs: readonly TensorSpec[]): string[] | undefined {
  if (asked === undefined) return undefined;
  if (!Array.isArray(asked)) throw new BadInput("'outputs' must be a list of {\"name\"}", "bad_input");
  return asked.map((o, i) => {
    if (!isObject(o) || typeof o.name !== "string") {
      throw new BadInput(`outputs[${i}] must be an object with a 'name'`, "bad_input");
    }
    if (asked.slice(0, i).some((p) => isObject(p) && p.name === o.name)) {
      throw new BadInput(`output '${o.name}' is asked for twice`, "bad_input");
    }
    if (!outputs.some((s) => s.name === o.name)) {
      throw new BadInput(
        `unknown output '${o.name}'; the model's outputs: ${outputs.map((s) => `'${s.name}'`).join(", ")}`,
        "bad_input",
      );
    }
    return o.name;
  });
}

/** What a V2 reply carries. */
export interface V2Reply {
  modelName: string;
  modelVersion: string;
  id?: string;
  /** Output tensors in model order. */
  outputs: readonly [string, HostTensor][];
  /** Only these, in this order (the request's `outputs`). */
  only?: readonly string[];
}

/** The reply's JSON text. */
export function encodeV2Reply(reply: V2Reply): string {
  const byName = new Map(reply.outputs);
  const names = reply.only ?? reply.outputs.map(([name]) => name);
  const outputs = names.map((name) => {
    const t = byName.get(name)!;
    return `{"name":${JSON.stringify(name)},"datatype":"${V2_DATATYPE[t.type]}","shape":${
      JSON.stringify(t.dims)
    },"data":[${valueWriter(t)(0, elementCount(t.dims))}]}`;
  });
  const id = reply.id === undefined ? "" : `,"id":${JSON.stringify(reply.id)}`;
  return `{"model_name":${JSON.stringify(reply.modelName)},"model_version":${
    JSON.stringify(reply.modelVersion)
  }${id},"outputs":[${outputs.join(",")}]}`;
}

/** A tensor as model metadata describes it: symbolic and unknown dims are -1. */
export function v2TensorMetadata(spec: TensorSpec): { name: string; datatype: string; shape: number[] } {
  return {
    name: spec.name,
    datatype: V2_DATATYPE[spec.type],
    shape: spec.shape.map((d) => typeof d === "number" && d >= 0 ? d : -1),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
