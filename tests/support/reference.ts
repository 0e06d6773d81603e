/**
 * @module
 * The demo model's reference: 1,000 fixed rows and scikit-learn's predictions
 * for them (written by scripts/train_demo_model.py), as JSON records and as
 * Arrow IPC file/stream bodies.
 */
import { Field, FixedSizeList, Float32, Float64, Table, tableToIPC, vectorFromArray } from "apache-arrow";

/** Rows (18 features each) and sklearn predictions. */
export interface Reference {
  features: string[];
  inputs: number[][];
  predictions: number[];
}

/** Loads tests/testdata/house_price_reference.json. */
export function loadReference(): Reference {
  return JSON.parse(Deno.readTextFileSync(new URL("../testdata/house_price_reference.json", import.meta.url)));
}

/** The rows as a pandas-records body: `[{"tensor": [...18]}, ...]`. */
export function recordsBody(rows: number[][]): string {
  return JSON.stringify(rows.map((tensor) => ({ tensor })));
}

/** The rows as an Arrow table with one FixedSizeList<float> column `tensor`. */
export function arrowTable(rows: number[][], precision: "float32" | "float64" = "float32"): Table {
  const leaf = precision === "float32" ? new Float32() : new Float64();
  return new Table({ tensor: vectorFromArray(rows, new FixedSizeList(rows[0].length, new Field("item", leaf))) });
}

/** Arrow IPC bytes of `arrowTable(rows)` in file or stream format. */
export function arrowBody(rows: number[][], format: "file" | "stream" = "file"): Uint8Array<ArrayBuffer> {
  return tableToIPC(arrowTable(rows), format) as Uint8Array<ArrayBuffer>;
}

/** Largest |a-b|/|b| over the pairs. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]));
  }
  return worst;
}
