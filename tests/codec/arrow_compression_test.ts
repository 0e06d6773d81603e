/**
 * Compressed Arrow bodies (LZ4_FRAME and ZSTD, file and stream), as written by
 * writers other than apache-arrow JS: polars (fixtures from
 * scripts/make_compressed_arrow_fixtures.ts) and, for the LZ4 frame options,
 * Debian's lz4 command.
 */
import { compressionRegistry, CompressionType } from "apache-arrow";
import { decodeArrow } from "../../src/codec/arrow_input.ts";
import type { TensorSpec } from "../../src/engine/tensor.ts";
import { BadInput, PayloadTooLarge, TernError } from "../../src/errors.ts";
import { assert, assertEquals, assertThrows } from "../support/assert.ts";
import { LZ4_CLI_FRAMES, lz4Payload } from "../support/lz4_payload.ts";
import { loadReference } from "../support/reference.ts";

const TENSOR: TensorSpec[] = [{ name: "tensor", type: "float32", shape: ["N", 18] }];
const ref = loadReference();
const fixture = (name: string) => Deno.readFileSync(new URL(`../testdata/arrow/${name}`, import.meta.url));

for (
  const [name, rows] of [
    ["polars_lz4_3.arrow", 3],
    ["polars_lz4_3.arrows", 3],
    ["polars_zstd_3.arrow", 3],
    ["polars_zstd_3.arrows", 3],
    ["polars_lz4_1000.arrow", 1000],
    ["polars_zstd_1000.arrows", 1000],
  ] as const
) {
  Deno.test(`${name} (compressed by polars) decodes to the values written`, () => {
    const d = decodeArrow(fixture(name), TENSOR);
    assertEquals(d.rows, rows);
    assertEquals(d.tensors.tensor.dims, [rows, 18]);
    assertEquals(d.tensors.tensor.data, new Float32Array(ref.inputs.slice(0, rows).flat()));
    const last = rows - 1;
    assertEquals(d.originalData(last), {
      id: last,
      label: `row-${last}`,
      tensor: Array.from(new Float32Array(ref.inputs[last])),
    });
  });
}

/** `frame` as apache-arrow hands a compressed buffer to a codec: after its int64 uncompressed length. */
function asArrowBuffer(frame: Uint8Array, uncompressedLength: number): Uint8Array {
  const buffer = new Uint8Array(8 + frame.length);
  new DataView(buffer.buffer).setBigInt64(0, BigInt(uncompressedLength), true);
  buffer.set(frame, 8);
  return buffer.subarray(8);
}

Deno.test("LZ4 frames from the lz4 command decode, whatever their block and checksum options", () => {
  const lz4 = compressionRegistry.get(CompressionType.LZ4_FRAME)!;
  const payload = lz4Payload();
  for (const name of Object.keys(LZ4_CLI_FRAMES)) {
    assertEquals(lz4.decode!(asArrowBuffer(fixture(name), payload.length)), payload, name);
  }
});

Deno.test("a corrupt LZ4 or ZSTD buffer is a 400 that says what is wrong", () => {
  const lz4 = compressionRegistry.get(CompressionType.LZ4_FRAME)!;
  const payload = lz4Payload();
  const checked = fixture("lz4_cli_linked_checked.lz4");
  const flipped = checked.slice();
  flipped[40] ^= 0x10;
  assertThrows(() => lz4.decode!(asArrowBuffer(flipped, payload.length)), /LZ4 frame: block checksum mismatch/);
  assertThrows(
    () => lz4.decode!(asArrowBuffer(checked, payload.length - 1)),
    /LZ4 frame: content size 6784 differs from the buffer's 6783/,
  );
  assertThrows(
    () => lz4.decode!(asArrowBuffer(fixture("lz4_cli_plain.lz4"), payload.length + 5)),
    /LZ4 frame: 6784 bytes, not the 6789 declared/,
  );
  assertThrows(
    () => lz4.decode!(asArrowBuffer(fixture("lz4_cli_plain.lz4").subarray(0, 100), payload.length)),
    /LZ4 frame: block overruns the frame/,
  );

  // Through the whole decoder: a byte of the tensor's compressed bytes changed in a polars file.
  for (
    const [name, error] of [["polars_lz4_3.arrow", /LZ4 frame: block checksum mismatch/], [
      "polars_zstd_3.arrows",
      /ZSTD/,
    ]] as const
  ) {
    const body = fixture(name);
    const at = lastFrame(body, name.includes("lz4") ? [0x04, 0x22, 0x4d, 0x18] : [0x28, 0xb5, 0x2f, 0xfd]) + 12;
    body[at] ^= 0xff;
    assertThrows(
      () => decodeArrow(body, TENSOR),
      (err: Error) =>
        err instanceof BadInput && err.code === "invalid_arrow" &&
        /^corrupt compressed Arrow buffer: /.test(err.message) && error.test(err.message),
    );
  }
});

/** Where the last compressed frame (by its magic number) of the tensor column starts. */
function lastFrame(body: Uint8Array, magic: number[]): number {
  for (let i = body.length - magic.length; i >= 0; i--) {
    if (magic.every((b, k) => body[i + k] === b)) return i;
  }
  throw new Error("no frame found");
}

Deno.test("compressed buffers may expand to the limit given, and no further (413)", () => {
  const body = fixture("polars_lz4_1000.arrow");
  const expanded = 1000 * (8 + 18 * 4) + 1000 * 8; // ids, tensors and string views, at least
  assertEquals(decodeArrow(body, TENSOR, 200_000).rows, 1000);
  assertThrows(
    () => decodeArrow(body, TENSOR, expanded / 2),
    (err: Error) =>
      err instanceof PayloadTooLarge &&
      /the Arrow body's LZ4_FRAME-compressed buffers expand to more than the limit of 44000 bytes/.test(err.message),
  );
});

Deno.test("every single-bit flip of a small compressed Arrow file or stream ends in a table or a 4xx", () => {
  for (const name of ["polars_lz4_3.arrow", "polars_lz4_3.arrows", "polars_zstd_3.arrow", "polars_zstd_3.arrows"]) {
    const body = fixture(name);
    let refused = 0;
    for (let i = 0; i < body.length; i++) {
      for (const mask of [0x01, 0x10, 0x80]) {
        const copy = body.slice();
        copy[i] ^= mask;
        try {
          const d = decodeArrow(copy, TENSOR, 1 << 20);
          assertEquals(d.tensors.tensor.data.length, d.rows * 18);
        } catch (err) {
          if (!(err instanceof TernError) || err.status >= 500) {
            throw new Error(`flip ${mask} at ${i} of ${name}: ${err}`);
          }
          refused++;
        }
      }
    }
    assert(refused > body.length, `only ${refused} of ${body.length * 3} flips refused in ${name}`);
  }
});
