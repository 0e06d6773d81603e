/**
 * @module
 * Decodes pandas-records JSON (`df.to_json(orient="records")`: a list of
 * `{column: value}` objects) into model input tensors. A column maps to the
 * model input of the same name; a row's value is a scalar or a (nested) list
 * that fills that input's per-row shape (see row_shape.ts), converted as in
 * convert.ts.
 */
import { BadInput } from "../errors.ts";
import { type HostTensor, type TensorSpec } from "../engine/tensor.ts";
import { type DecodedInput, keepsOriginalData, missingColumn, tooManyRows } from "./decoded_input.ts";
import { tensorFromRowValues } from "./row_values.ts";

/** Parses a pandas-records body and builds one tensor per model input; more than `maxRows` records is a 413. */
export function decodePandasRecords(
  text: string,
  inputs: readonly TensorSpec[],
  maxRows = Infinity,
): DecodedInput {
  let records: unknown;
  try {
    records = JSON.parse(text);
  } catch (err) {
    throw new BadInput(
      `body is not valid JSON: ${(err as Error).message}`,
      "invalid_json",
    );
  }
  if (!Array.isArray(records)) {
    const got = records === null ? "null" : typeof records === "object" ? "an object" : typeof records;
    throw new BadInput(
      `expected a list of records as pandas writes with to_json(orient="records"), got ${got}`,
      "not_records",
    );
  }
  if (records.length === 0) {
    throw new BadInput("the list of records is empty", "no_rows");
  }
  if (records.length > maxRows) throw tooManyRows(records.length, maxRows);
  for (let r = 0; r < records.length; r++) {
    const rec = records[r];
    if (rec === null || typeof rec !== "object" || Array.isArray(rec)) {
      throw new BadInput(
        `row ${r} is not a record (an object of column: value)`,
        "not_records",
      );
    }
  }
  const rows = records as Record<string, unknown>[];
  const tensors: Record<string, HostTensor> = {};
  for (const spec of inputs) tensors[spec.name] = columnTensor(rows, spec);
  const keepOriginal = keepsOriginalData(tensors, rows.length);
  return {
    rows: rows.length,
    tensors,
    originalData: (row) => keepOriginal ? rows[row] : null,
    sent: { records: rows },
  };
}

function columnTensor(
  rows: Record<string, unknown>[],
  spec: TensorSpec,
): HostTensor {
  const name = spec.name;
  for (let r = 0; r < rows.length; r++) {
    if (!Object.hasOwn(rows[r], name)) throw missingColumn(`row ${r}`, spec, Object.keys(rows[r]));
  }
  return tensorFromRowValues(rows.length, (r) => rows[r][name], spec, name);
}
