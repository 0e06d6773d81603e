/**
 * Writes the compressed Arrow IPC fixtures in tests/testdata/arrow/, made by
 * polars (nodejs-polars: Rust's Arrow IPC writer), a writer independent of the
 * apache-arrow JS that tern reads them with:
 *
 *   polars_{lz4,zstd}_3.{arrow,arrows}    reference rows 0–2, file and stream format
 *   polars_lz4_1000.arrow                 all 1,000 reference rows (LZ4 frames of several blocks)
 *   polars_zstd_1000.arrows               the same as a ZSTD stream
 *
 * Each has the columns `id` (int64: the row's index), `label` (string:
 * `row-<index>`) and `tensor` (fixed-size list of 18 float32: the demo model's
 * input), every buffer compressed with the codec named (polars writes LZ4
 * frames with block and content checksums; the string column is Utf8View in
 * files and LargeUtf8 in streams).
 *
 *   lz4_cli_*.lz4                         bare LZ4 frames of tests/support/lz4_payload.ts, written by Debian's
 *                                         lz4 command with the options listed there
 *
 * Deterministic: the same bytes on every run.
 *
 *   deno run --node-modules-dir=none --no-lock --allow-read --allow-write --allow-env --allow-ffi --allow-sys \
 *     --allow-run=lz4 scripts/make_compressed_arrow_fixtures.ts
 *
 * nodejs-polars is imported through a specifier held in a variable: only this
 * script fetches it (about 200 MB of native packages), and neither
 * `deno check` nor deno.lock sees it; `--node-modules-dir=none` keeps it in
 * Deno's cache, out of node_modules/, which `deno compile` would embed.
 */

const POLARS = "npm:nodejs-polars@0.25.2";
// deno-lint-ignore no-explicit-any
const pl: any = (await import(POLARS)).default;

const ROOT = new URL("../", import.meta.url);
const reference: { inputs: number[][] } = JSON.parse(
  await Deno.readTextFile(new URL("tests/testdata/house_price_reference.json", ROOT)),
);

function frame(count: number) {
  const rows = reference.inputs.slice(0, count);
  return pl.DataFrame([
    pl.Series("id", rows.map((_, i) => i), pl.Int64),
    pl.Series("label", rows.map((_, i) => `row-${i}`), pl.Utf8),
    pl.Series("tensor", rows, pl.FixedSizeList(pl.Float32, 18)),
  ]);
}

const outputs: [string, number, "lz4" | "zstd", "file" | "stream"][] = [
  ["polars_lz4_3.arrow", 3, "lz4", "file"],
  ["polars_lz4_3.arrows", 3, "lz4", "stream"],
  ["polars_zstd_3.arrow", 3, "zstd", "file"],
  ["polars_zstd_3.arrows", 3, "zstd", "stream"],
  ["polars_lz4_1000.arrow", 1000, "lz4", "file"],
  ["polars_zstd_1000.arrows", 1000, "zstd", "stream"],
];
for (const [name, count, compression, format] of outputs) {
  const df = frame(count);
  const bytes: Uint8Array = format === "file" ? df.writeIPC({ compression }) : df.writeIPCStream({ compression });
  await Deno.writeFile(new URL(`tests/testdata/arrow/${name}`, ROOT), bytes);
  console.log(`wrote tests/testdata/arrow/${name}: ${bytes.length} bytes`);
}

// LZ4 frames of one payload written by Debian's lz4 command with the frame options users meet (the test of the LZ4
// decoder alone reads them).
const { LZ4_CLI_FRAMES, lz4Payload } = await import("../tests/support/lz4_payload.ts");
const payload = await Deno.makeTempFile({ suffix: ".bin" }); // a file, not stdin: --content-size needs the size
await Deno.writeFile(payload, lz4Payload());
for (const [name, options] of Object.entries(LZ4_CLI_FRAMES)) {
  const out = await new Deno.Command("lz4", { args: ["-q", "-c", ...options, payload], stdout: "piped" }).output();
  if (!out.success) throw new Error(`lz4 ${options.join(" ")} failed`);
  await Deno.writeFile(new URL(`tests/testdata/arrow/${name}`, ROOT), out.stdout);
  console.log(`wrote tests/testdata/arrow/${name}: ${out.stdout.length} bytes (lz4 ${options.join(" ")})`);
}
await Deno.remove(payload);
