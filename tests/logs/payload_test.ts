import fc from "fast-check";
import { type DType, type HostTensor, TYPED_ARRAY } from "../../src/engine/tensor.ts";
import { decodePayload, encodePayload, type PayloadTensors } from "../../src/logs/payload.ts";
import { assertEquals } from "../support/assert.ts";

const NUMERIC = Object.keys(TYPED_ARRAY) as Exclude<DType, "string">[];

/** A tensor of `type` with `rows` rows of `width` elements (values from the bytes given). */
function tensorOf(type: DType, rows: number, width: number, bytes: number[], strings: string[]): HostTensor {
  const count = rows * width;
  if (type === "string") {
    return {
      type,
      dims: [rows, width],
      data: Array.from({ length: count }, (_, i) => strings[i % strings.length] ?? ""),
    };
  }
  const Typed = TYPED_ARRAY[type];
  const raw = new Uint8Array(count * Typed.BYTES_PER_ELEMENT).map((_, i) => bytes[i % bytes.length] ?? 0);
  return { type, dims: [rows, width], data: new Typed(raw.buffer) };
}

const tensor = (rows: number) =>
  fc.record({
    type: fc.constantFrom<DType>(...NUMERIC, "string"),
    width: fc.integer({ min: 0, max: 5 }),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 40 }),
    strings: fc.array(fc.string({ unit: "grapheme" }), { minLength: 1, maxLength: 3 }),
  }).map((t) => tensorOf(t.type, rows, t.width, t.bytes, t.strings));

const named = (rows: number) => fc.array(fc.tuple(fc.string(), tensor(rows)), { maxLength: 3 });

/** `bytes` without the spaces that align its tensors, as payloads were written before 2026-12-01. */
function unpadded(bytes: Uint8Array): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  let trimmed = length;
  while (trimmed > 0 && bytes[3 + trimmed] === 0x20) trimmed--;
  const out = new Uint8Array(bytes.length - (length - trimmed));
  new DataView(out.buffer).setUint32(0, trimmed, true);
  out.set(bytes.subarray(4, 4 + trimmed), 4);
  out.set(bytes.subarray(4 + length), 4 + trimmed);
  return out;
}

Deno.test("a payload gives back every tensor it was given: names, dtypes, dims and bytes, in order, aligned or not, padded or not", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((rows) =>
        fc.record({
          rows: fc.constant(rows),
          inputs: fc.array(fc.tuple(fc.string(), fc.option(tensor(rows))), { maxLength: 3 }),
          outputs: named(rows),
          shadows: fc.array(fc.record({ model: fc.string(), outputs: named(rows) }).map((s) => ({ ...s })), {
            maxLength: 2,
          }),
          checks: fc.option(fc.array(fc.string(), { minLength: 1, maxLength: 3 })),
        })
      ),
      ({ rows, inputs, outputs, shadows, checks }) => {
        const given: PayloadTensors = { inputs, outputs, shadows };
        if (checks) given.checks = { names: checks, flags: new Uint8Array(rows * checks.length).map((_, i) => i % 2) };
        const bytes = encodePayload(given);
        assertEquals((4 + new DataView(bytes.buffer).getUint32(0, true)) % 8, 0, "tensors start 8-byte aligned");
        assertEquals(decodePayload(bytes, rows), given);
        // Read back from an unaligned copy, as a database driver may hand it over.
        const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
        unaligned.set(bytes);
        assertEquals(decodePayload(unaligned, rows), given);
        assertEquals(decodePayload(unpadded(bytes), rows), given);
      },
    ),
  );
});
