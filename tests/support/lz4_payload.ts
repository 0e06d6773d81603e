/**
 * @module
 * The payload of the LZ4 frame fixtures (tests/testdata/arrow/lz4_cli_*.lz4,
 * written by scripts/make_compressed_arrow_fixtures.ts with Debian's lz4
 * command): reference rows 0–39 as float32 bytes, 1 KiB of pseudo-random
 * bytes (a block of those does not compress, so it is stored as is), rows
 * 40–79.
 */
import { loadReference } from "./reference.ts";

/** The bytes every lz4_cli_*.lz4 fixture decompresses to. */
export function lz4Payload(): Uint8Array {
  const rows = loadReference().inputs;
  const floats = (from: number, to: number) => new Uint8Array(new Float32Array(rows.slice(from, to).flat()).buffer);
  const noise = new Uint8Array(1024);
  let state = 12345;
  for (let i = 0; i < noise.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    noise[i] = state >>> 24;
  }
  const parts = [floats(0, 40), noise, floats(40, 80)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The lz4 command's options for each fixture, by file name. */
export const LZ4_CLI_FRAMES: Record<string, string[]> = {
  // As liblz4's LZ4F defaults write (what Arrow C++, so pyarrow, uses): no checksums.
  "lz4_cli_plain.lz4": ["--no-frame-crc"],
  // Linked blocks of 1 KiB, block checksums, content size and content checksum.
  "lz4_cli_linked_checked.lz4": ["-BD", "-BX", "--content-size", "-B1024"],
  // Independent blocks of 1 KiB with a content checksum.
  "lz4_cli_independent.lz4": ["-BI", "-B1024"],
};
