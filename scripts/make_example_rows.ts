/**
 * Writes examples/rows.arrow, the Arrow IPC file the README's "Try it" posts to
 * the demo pipeline (house-price-estimator): four house sales, each an `id`
 * (int64) and a `tensor` of the model's 18 float32 features, in the order of
 * tests/testdata/house_price_reference.json's `features`. Deterministic: the
 * same bytes on every run.
 *
 *   deno run --allow-write scripts/make_example_rows.ts
 */
import { Field, FixedSizeList, Float32, Int64, Table, tableToIPC, vectorFromArray } from "apache-arrow";

const ROWS: [bigint, number[]][] = [
  [1001n, [4, 2.5, 2900, 5505, 2, 0, 0, 3, 8, 2900, 0, 47.6063, -122.02, 2970, 5251, 12, 0, 0]],
  [1002n, [4, 2.75, 3070, 4463, 2, 0, 0, 3, 7, 3070, 0, 47.4165, -121.572, 2530, 5363, 11, 0, 0]],
  [1003n, [1, 1.75, 1450, 15845, 1.5, 0, 0, 3, 6, 1030, 420, 47.5301, -121.945, 1340, 15718, 30, 0, 0]],
  [1004n, [5, 3.5, 3620, 3220, 2, 0, 0, 4, 8, 3620, 0, 47.3908, -121.598, 3380, 3956, 24, 0, 0]],
];

const table = new Table({
  id: vectorFromArray(ROWS.map(([id]) => id), new Int64()),
  tensor: vectorFromArray(ROWS.map(([, tensor]) => tensor), new FixedSizeList(18, new Field("item", new Float32()))),
});
const out = new URL("../examples/rows.arrow", import.meta.url);
await Deno.writeFile(out, tableToIPC(table, "file"));
console.log(
  `wrote ${out.pathname}: ${table.numRows} rows, columns ${table.schema.fields.map((f) => f.name).join(", ")}`,
);
