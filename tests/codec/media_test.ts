/**
 * Content negotiation: the reply is Arrow when the client's Accept prefers an Arrow type over JSON, weighing `q` as
 * HTTP does; a type it refuses with `q=0` is never chosen.
 */
import { arrowReplyFormat, requestFormat } from "../../src/codec/media.ts";
import { assertEquals, assertThrows } from "../support/assert.ts";

const FILE = "application/vnd.apache.arrow.file";
const STREAM = "application/vnd.apache.arrow.stream";

Deno.test("Accept: Arrow when it is preferred, JSON when JSON is or Arrow is refused (q=0)", () => {
  const cases: [string | undefined, "file" | "stream" | undefined][] = [
    [undefined, undefined],
    ["*/*", undefined],
    ["application/json", undefined],
    [FILE, "file"],
    [STREAM, "stream"],
    [`${FILE}, */*`, "file"],
    [`*/*, ${FILE}`, "file"],
    [`${FILE};q=0, application/json`, undefined],
    [`${FILE};q=0`, undefined],
    [`application/json;q=0.5, ${STREAM}`, "stream"],
    [`${FILE};q=0.5, application/json`, undefined],
    [`${FILE};q=0.9, */*;q=1`, undefined], // anything, JSON too, is preferred
    [`application/json, ${FILE}`, "file"], // a tie goes to Arrow, as before q was weighed
    [`${STREAM}, ${FILE}`, "file"],
    [`application/json;q=0, */*;q=0.5, ${FILE};q=0.2`, "file"], // JSON refused by name
    [`${STREAM.toUpperCase()}; Q=1`, "stream"],
  ];
  for (const [accept, format] of cases) assertEquals([accept, arrowReplyFormat(accept)], [accept, format]);
});

Deno.test("without a Content-Type, or octet-stream, the first bytes decide; a body that is neither says so (415)", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  assertEquals(requestFormat(undefined, bytes(' \n[{"tensor": [1]}]')), "pandas-records");
  assertEquals(requestFormat("application/octet-stream", bytes("ARROW1\0\0")), "arrow");
  assertThrows(() => requestFormat(undefined, bytes("tensor=1")), {
    name: "UnsupportedMediaType",
    message: "without a Content-Type the body's first bytes decide, and these are neither Arrow (ARROW1 or a " +
      "stream marker) nor JSON ('[' or '{'): send application/json; format=pandas-records, " +
      "application/vnd.apache.arrow.file or application/vnd.apache.arrow.stream",
  });
  assertThrows(() => requestFormat("application/octet-stream", bytes("\x1f\x8b")), {
    message: /^with Content-Type 'application\/octet-stream' the body's first bytes decide, and these are neither/,
  });
});
