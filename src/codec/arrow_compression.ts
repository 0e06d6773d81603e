/**
 * @module
 * Compressed Arrow IPC bodies (record batch body compression: LZ4_FRAME or
 * ZSTD, as pyarrow's `write_feather` and pandas' `to_feather` write by
 * default). Importing this module registers a decoder for each codec with
 * apache-arrow's `compressionRegistry`, once:
 * - ZSTD: fzstd (pure JS), writing into a buffer of the declared size;
 * - LZ4_FRAME: lz4js's block decoder (pure JS), fed block by block from the
 *   frame. lz4js's own frame reader cannot be used: it reads a block's
 *   checksum before the block instead of after it, so it garbles frames with
 *   block checksums (polars writes those). The frame's checksums, when
 *   present, are verified.
 *
 * Each compressed buffer starts with its uncompressed length (int64);
 * arrow_verify.ts bounds the sum of those before anything is decompressed,
 * and each decoder here writes into a buffer of exactly that length and
 * fails when the data does not fill it exactly, so a corrupt or lying buffer
 * is an error, never an allocation of its own choosing.
 */
import { compressionRegistry, CompressionType } from "apache-arrow";
import { decompress as zstdDecompress } from "fzstd";
import lz4js from "lz4js";
import xxh32 from "lz4js/xxh32.js";

/** The block decoder of lz4js: decodes `src[sIndex, sIndex+sLength)` into `dst` from `dIndex`; returns the end. */
const decompressBlock = (lz4js as {
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}).decompressBlock;
/** xxHash32 of `src[index, index+len)`. */
const xxHash32 = (xxh32 as { hash(seed: number, src: Uint8Array, index: number, len: number): number }).hash;

/** Thrown for a buffer that does not decompress; arrow_input turns it into a 400 naming the codec. */
export class CorruptCompressedBuffer extends Error {}

/** The uncompressed length apache-arrow read from the 8 bytes before `data` (its reader hands codecs the rest). */
function declaredLength(data: Uint8Array): number {
  if (data.byteOffset < 8) throw new Error("compressed Arrow buffer without its length prefix");
  const length = new DataView(data.buffer, data.byteOffset - 8, 8).getBigInt64(0, true);
  if (length < 0n || length > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CorruptCompressedBuffer(`uncompressed length ${length} is invalid`);
  }
  return Number(length);
}

function zstd(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(declaredLength(data));
  try {
    zstdDecompress(data, out);
  } catch (err) {
    throw new CorruptCompressedBuffer(`ZSTD: ${(err as Error).message}`);
  }
  return out;
}

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_SIZES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

/** Decodes one LZ4 frame (lz4_Frame_format.md) into exactly its declared length. */
function lz4Frame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(declaredLength(data));
  const fail = (why: string) => new CorruptCompressedBuffer(`LZ4 frame: ${why}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u32 = (at: number) => {
    if (at + 4 > data.length) throw fail("truncated");
    return view.getUint32(at, true);
  };
  if (u32(0) !== LZ4_MAGIC) throw fail("no LZ4 frame magic number");
  if (data.length < 7) throw fail("truncated");
  const flags = data[4];
  if (flags >> 6 !== 1) throw fail(`unsupported version ${flags >> 6}`);
  const blockChecksums = (flags & 0x10) !== 0;
  const contentSize = (flags & 0x08) !== 0;
  const contentChecksum = (flags & 0x04) !== 0;
  if (flags & 0x01) throw fail("frames with a dictionary are not supported");
  const maxBlock = LZ4_BLOCK_SIZES[(data[5] >> 4) & 7];
  if (maxBlock === undefined) throw fail(`invalid block size code ${(data[5] >> 4) & 7}`);
  let at = 6;
  if (contentSize) {
    if (at + 8 > data.length) throw fail("truncated");
    const size = view.getBigUint64(at, true);
    if (size !== BigInt(out.length)) throw fail(`content size ${size} differs from the buffer's ${out.length}`);
    at += 8;
  }
  if (at >= data.length) throw fail("truncated");
  if (((xxHash32(0, data, 4, at - 4) >>> 8) & 0xff) !== data[at]) throw fail("header checksum mismatch");
  at++;
  let written = 0;
  for (;;) {
    const word = u32(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > maxBlock || at + size + (blockChecksums ? 4 : 0) > data.length) throw fail("block overruns the frame");
    if (blockChecksums && (xxHash32(0, data, at, size) >>> 0) !== u32(at + size)) throw fail("block checksum mismatch");
    if (word & 0x80000000) {
      if (written + size > out.length) throw fail(`more than the ${out.length} bytes declared`);
      out.set(data.subarray(at, at + size), written);
      written += size;
    } else {
      written = decompressBlock(data, out, at, size, written);
      if (written > out.length) throw fail(`more than the ${out.length} bytes declared`);
    }
    at += size + (blockChecksums ? 4 : 0);
  }
  if (written !== out.length) throw fail(`${written} bytes, not the ${out.length} declared`);
  if (contentChecksum && (xxHash32(0, out, 0, out.length) >>> 0) !== u32(at)) throw fail("content checksum mismatch");
  return out;
}

compressionRegistry.set(CompressionType.ZSTD, { decode: zstd });
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: lz4Frame });
