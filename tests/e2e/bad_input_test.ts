/**
 * Every bad request gets a 4xx JSON error naming the problem, and the real
 * process keeps serving: after each one, a good request still succeeds.
 */
import { assertEquals, assertMatch } from "../support/assert.ts";
import { arrowBody, loadReference, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ref = loadReference();
const row = ref.inputs[0];
const JSON_TYPE = "application/json; format=pandas-records";
const ARROW_FILE = "application/vnd.apache.arrow.file";
const ARROW_STREAM = "application/vnd.apache.arrow.stream";

/** Flips one bit of a copy of `bytes`. */
function flip(bytes: Uint8Array<ArrayBuffer>, at: number, mask = 0x10): Uint8Array<ArrayBuffer> {
  const copy = bytes.slice();
  copy[at] ^= mask;
  return copy;
}

interface Case {
  name: string;
  body: BodyInit;
  type?: string;
  path?: string;
  status: number;
  code: string;
  error: RegExp;
}

const arrowFile = arrowBody(ref.inputs.slice(0, 10), "file");
const arrowStream = arrowBody(ref.inputs.slice(0, 10), "stream");

const CASES: Case[] = [
  { name: "empty body", body: "", type: JSON_TYPE, status: 400, code: "empty_body", error: /body is empty/ },
  {
    name: "truncated Arrow file",
    body: arrowFile.slice(0, arrowFile.length >> 1),
    type: ARROW_FILE,
    status: 400,
    code: "invalid_arrow",
    error: /truncated Arrow file/,
  },
  {
    name: "truncated Arrow stream",
    body: arrowStream.slice(0, arrowStream.length - 100),
    type: ARROW_STREAM,
    status: 400,
    code: "invalid_arrow",
    error: /truncated Arrow stream/,
  },
  {
    // Flipping the continuation marker made apache-arrow hang before verification.
    name: "bit-flipped Arrow stream (message marker)",
    body: flip(arrowStream, 0),
    type: ARROW_STREAM,
    status: 400,
    code: "invalid_arrow",
    error: /corrupt or truncated Arrow stream/,
  },
  {
    // Flipping the schema's fields-vector length made apache-arrow exhaust the heap.
    name: "bit-flipped Arrow stream (schema vector length)",
    body: flip(arrowStream, 41, 0x01),
    type: ARROW_STREAM,
    status: 400,
    code: "invalid_arrow",
    error: /corrupt Arrow message/,
  },
  {
    name: "bit-flipped Arrow file (footer length)",
    body: flip(arrowFile, arrowFile.length - 9),
    type: ARROW_FILE,
    status: 400,
    code: "invalid_arrow",
    error: /footer length/,
  },
  {
    name: "JSON that is not a list of records (an object)",
    body: JSON.stringify({ tensor: row }),
    type: JSON_TYPE,
    status: 400,
    code: "not_records",
    error: /expected a list of records .*got an object/,
  },
  {
    name: "JSON list of numbers, not records",
    body: JSON.stringify(row),
    type: JSON_TYPE,
    status: 400,
    code: "not_records",
    error: /row 0 is not a record/,
  },
  {
    name: "malformed JSON",
    body: '[{"tensor": [1, 2',
    type: JSON_TYPE,
    status: 400,
    code: "invalid_json",
    error: /not valid JSON/,
  },
  {
    name: "misnamed column",
    body: JSON.stringify([{ features: row }]),
    type: JSON_TYPE,
    status: 400,
    code: "missing_column",
    error: /no column 'tensor' .*columns sent: 'features'/,
  },
  {
    name: "missing column in a later row",
    body: JSON.stringify([{ tensor: row }, {}]),
    type: JSON_TYPE,
    status: 400,
    code: "missing_column",
    error: /row 1 has no column 'tensor'/,
  },
  {
    name: "a row of 17 floats",
    body: JSON.stringify([{ tensor: row.slice(0, 17) }]),
    type: JSON_TYPE,
    status: 400,
    code: "wrong_shape",
    error: /row 0: got 17 values .*float32 \[N,18\]/,
  },
  {
    name: "a row of 17 floats in Arrow",
    body: arrowBody([row.slice(0, 17)], "file"),
    type: ARROW_FILE,
    status: 400,
    code: "wrong_shape",
    error: /got 17 values/,
  },
  {
    name: "a string where a float is due",
    body: JSON.stringify([{ tensor: [...row.slice(0, 3), "abc", ...row.slice(4)] }]),
    type: JSON_TYPE,
    status: 400,
    code: "wrong_dtype",
    error: /element 3: expected a number for float32, got string "abc"/,
  },
  {
    name: "ragged nested lists",
    body: JSON.stringify([{ tensor: [row.slice(0, 9), row.slice(9, 17)] }]),
    type: JSON_TYPE,
    status: 400,
    code: "wrong_shape",
    error: /got 18 values|ragged/,
  },
  {
    name: "unsupported Content-Type",
    body: recordsBody([row]),
    type: "text/plain",
    status: 415,
    code: "unsupported_media_type",
    error: /unsupported Content-Type 'text\/plain'/,
  },
  {
    name: "unsupported pandas orient",
    body: recordsBody([row]),
    type: "application/json; format=split",
    status: 415,
    code: "unsupported_media_type",
    error: /format=split is not supported/,
  },
  {
    name: "body over MAX_REQUEST_SIZE",
    body: recordsBody(ref.inputs.slice(0, 200)),
    type: JSON_TYPE,
    status: 413,
    code: "payload_too_large",
    error: /larger than the limit of 16384 bytes/,
  },
  {
    name: "unknown pipeline",
    body: recordsBody([row]),
    type: JSON_TYPE,
    path: "/pipelines/no-such-pipeline",
    status: 404,
    code: "not_found",
    error: /pipeline 'no-such-pipeline' not found/,
  },
  {
    name: "unknown route",
    body: "{}",
    type: JSON_TYPE,
    path: "/no/such/route",
    status: 404,
    code: "not_found",
    error: /no route POST \/no\/such\/route/,
  },
];

Deno.test("bad input gets a 4xx JSON error naming the problem, and tern keeps serving", async (t) => {
  const tern = await startTern({ args: ["--max-request-size", "16Ki"] });
  try {
    for (const c of CASES) {
      await t.step(c.name, async () => {
        const res = await fetch(`${tern.url}${c.path ?? "/infer"}`, {
          method: "POST",
          headers: c.type ? { "content-type": c.type } : {},
          body: c.body,
        });
        assertEquals(res.status, c.status);
        assertMatch(res.headers.get("content-type") ?? "", /^application\/json/);
        const body = await res.json();
        assertEquals(Object.keys(body).sort(), ["code", "error"]);
        assertEquals(body.code, c.code);
        assertMatch(body.error, c.error);

        const ok = await fetch(`${tern.url}/infer`, {
          method: "POST",
          headers: { "content-type": JSON_TYPE },
          body: recordsBody([row]),
        });
        assertEquals(ok.status, 200);
        assertEquals((await ok.json())[0].outputs[0].Float.dim, [1, 1]);
      });
    }
  } finally {
    assertEquals(await tern.stop(), 0);
  }
});
