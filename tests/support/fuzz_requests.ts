/**
 * @module
 * fast-check arbitraries of bad requests to tern's inference routes: random
 * bytes; Arrow files and streams truncated, bit-flipped, spliced and built
 * with the wrong schema; deep or huge JSON; NaN and Infinity; wrong types;
 * huge shapes and dims (V2); and mixes of Content-Type, Accept and paths.
 * Each request names its kind, so a run can count what it tried.
 */
import fc from "fast-check";
import {
  Bool,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import { arrowBody, loadReference } from "./reference.ts";

/** One generated request. */
export interface FuzzRequest {
  kind: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
}

const ref = loadReference();
const text = new TextEncoder();
const bytes = (s: string) => text.encode(s) as Uint8Array<ArrayBuffer>;

const CONTENT_TYPES = [
  "application/json",
  "application/json; format=pandas-records",
  "application/json; format=split",
  "application/json; charset=latin1",
  "application/vnd.apache.arrow.file",
  "application/vnd.apache.arrow.stream",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "garbage/;;;=",
  "",
];
const ACCEPTS = [
  "application/json",
  "application/vnd.apache.arrow.file",
  "application/vnd.apache.arrow.stream",
  "*/*",
  "text/html",
  "",
];

/** The routes a body goes to: `pipeline` and `model` are the served pipeline's and its first model's names. */
function paths(pipeline: string, model: string): string[] {
  return [
    "/infer",
    `/pipelines/${pipeline}`,
    "/pipelines/no-such",
    `/v2/models/${model}/infer`,
    "/v2/models/no-such/infer",
    "/logs",
  ];
}

/** A mutation of Arrow bytes. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("splice" as const), at: fc.nat(), insert: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ op: fc.constant("zero" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant("dup" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 256 }) }),
  fc.record({ op: fc.constant("max" as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(base: Uint8Array, ops: Mutation[]): Uint8Array<ArrayBuffer> {
  let b = new Uint8Array(base);
  for (const m of ops) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.op === "truncate") b = b.slice(0, at);
    else if (m.op === "flip") b[at] ^= 1 << m.bit;
    else if (m.op === "splice") b = new Uint8Array([...b.subarray(0, at), ...m.insert, ...b.subarray(at)]);
    else if (m.op === "zero") b.fill(0, at, at + m.length);
    else if (m.op === "dup") b = new Uint8Array([...b.subarray(0, at + m.length), ...b.subarray(at)]);
    // A length or count field set to its largest value: 0xff over 4 bytes.
    else b.fill(0xff, at, at + 4);
  }
  return b as Uint8Array<ArrayBuffer>;
}

const bases = [1, 3].flatMap((
  n,
) => [arrowBody(ref.inputs.slice(0, n), "file"), arrowBody(ref.inputs.slice(0, n), "stream")]);

/** Arrow bytes: a valid body for the demo, mutated. */
const mutatedArrow = fc.record({
  base: fc.integer({ min: 0, max: bases.length - 1 }),
  ops: fc.array(mutation, { minLength: 1, maxLength: 4 }),
}).map(({ base, ops }) => ({ kind: "arrow-mutated", body: mutate(bases[base], ops), stream: base % 2 === 1 }));

/** Arrow tables of the wrong shape: other column names, types, widths and row counts. */
const wrongArrow = fc.record({
  name: fc.constantFrom("tensor", "x", "", "tensor\u0000", "ünï"),
  type: fc.constantFrom("f32list", "f64list", "int64", "int32", "utf8", "bool", "list"),
  width: fc.integer({ min: 0, max: 40 }),
  rows: fc.integer({ min: 0, max: 4 }),
  value: fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0)),
  stream: fc.boolean(),
}).map(({ name, type, width, rows, value, stream }) => {
  const row = Array.from({ length: width }, () => value);
  let vector;
  if (type === "f32list" || type === "f64list") {
    const leaf = type === "f32list" ? new Float32() : new Float64();
    vector = vectorFromArray(
      Array.from({ length: rows }, () => row),
      new FixedSizeList(width || 1, new Field("item", leaf)),
    );
  } else if (type === "list") {
    vector = vectorFromArray(Array.from({ length: rows }, () => row), new List(new Field("item", new Float64())));
  } else if (type === "int64") {
    vector = vectorFromArray(Array.from({ length: rows }, () => BigInt(width)), new Int64());
  } else if (type === "int32") vector = vectorFromArray(Array.from({ length: rows }, () => width), new Int32());
  else if (type === "bool") vector = vectorFromArray(Array.from({ length: rows }, () => true), new Bool());
  else vector = vectorFromArray(Array.from({ length: rows }, () => String(value)), new Utf8());
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = tableToIPC(new Table({ [name]: vector }), stream ? "stream" : "file") as Uint8Array<ArrayBuffer>;
  } catch {
    body = bytes(`${name}:${type}`);
  }
  return { kind: "arrow-wrong-schema", body, stream };
});

/** Numbers JSON cannot hold, as text. */
const oddNumber = fc.constantFrom(
  "NaN",
  "Infinity",
  "-Infinity",
  "1e400",
  "-0",
  "1e-400",
  "0x10",
  "01",
  ".5",
  "1.",
  "+1",
);

/** JSON the pandas-records reader must refuse or take: wrong types, odd numbers, ragged lists. */
const wrongJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify([{ tensor: v }])),
  fc.array(fc.oneof(fc.double().map(String), oddNumber), { maxLength: 40 }).map((xs) =>
    `[{"tensor":[${xs.join(",")}]}]`
  ),
  fc.record({ key: fc.string({ maxLength: 8 }), width: fc.integer({ min: 0, max: 30 }) }).map(({ key, width }) =>
    JSON.stringify([{ [key]: Array(width).fill(1.5) }])
  ),
  fc.array(fc.array(fc.double(), { maxLength: 3 }), { maxLength: 5 }).map((rows) =>
    JSON.stringify(rows.map((tensor) => ({ tensor })))
  ),
  fc.string({ maxLength: 200 }),
).map((s) => ({ kind: "json-wrong", body: bytes(s) }));

/** Deep nesting and long bodies (capped by the run's MAX_REQUEST_SIZE: larger ones are a 413). */
const hugeJson = fc.record({
  shape: fc.constantFrom("[", '{"a":', '[{"tensor":', "[[[[", '"', "[1,"),
  depth: fc.integer({ min: 1, max: 60_000 }),
  close: fc.boolean(),
}).map(({ shape, depth, close }) => {
  const closing = shape === '{"a":' ? "}" : shape === '"' ? '"' : "]";
  return { kind: "json-deep-or-huge", body: bytes(shape.repeat(depth) + (close ? "0" + closing.repeat(depth) : "")) };
});

/** V2 bodies with huge or negative shapes, wrong datatypes and data that do not fit them. */
const v2Body = fc.record({
  name: fc.constantFrom("tensor", "input", "x"),
  shape: fc.array(fc.oneof(fc.integer({ min: -2, max: 20 }), fc.constantFrom(2 ** 31, 2 ** 53, 1e12, 1.5, -1e9)), {
    maxLength: 6,
  }),
  datatype: fc.constantFrom("FP32", "FP64", "INT64", "BYTES", "BOOL", "FP16", "nope", ""),
  data: fc.oneof(
    fc.array(fc.double(), { maxLength: 40 }),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 5 }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  count: fc.integer({ min: 0, max: 3 }),
}).map(({ name, shape, datatype, data, count }) => ({
  kind: "v2-shapes",
  body: bytes(JSON.stringify({ inputs: Array.from({ length: count }, () => ({ name, shape, datatype, data })) })),
}));

/** Random bytes. */
const randomBytes = fc.uint8Array({ maxLength: 2048 }).map((b) => ({
  kind: "random-bytes",
  body: b as Uint8Array<ArrayBuffer>,
}));

/** Bad requests for a tern serving `pipeline` whose first model is `model`. */
export function badRequests(pipeline: string, model: string): fc.Arbitrary<FuzzRequest> {
  const body = fc.oneof(randomBytes, mutatedArrow, wrongArrow, wrongJson, hugeJson, v2Body);
  return fc.record({
    body,
    // Mostly the header that fits the body; sometimes any.
    mixHeaders: fc.nat({ max: 3 }),
    contentType: fc.constantFrom(...CONTENT_TYPES),
    accept: fc.constantFrom(...ACCEPTS),
    path: fc.constantFrom(...paths(pipeline, model)),
    // V2 bodies go to V2 most of the time.
    v2: fc.boolean(),
  }).map(({ body, mixHeaders, contentType, accept, path, v2 }) => {
    const fitting = "stream" in body
      ? `application/vnd.apache.arrow.${body.stream ? "stream" : "file"}`
      : "application/json; format=pandas-records";
    const headers: Record<string, string> = {};
    const type = mixHeaders === 0 ? contentType : fitting;
    if (type) headers["content-type"] = type;
    if (accept) headers.accept = accept;
    const route = body.kind === "v2-shapes" && v2 ? `/v2/models/${model}/infer` : path;
    return { kind: mixHeaders === 0 ? `${body.kind}+header-mix` : body.kind, path: route, headers, body: body.body };
  });
}
