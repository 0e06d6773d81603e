/**
 * @module
 * What a request decoder hands to the pipeline: one tensor per model input,
 * the row count, and access to each row as the client sent it.
 */
import type { Table } from "apache-arrow";
import { BadInput, PayloadTooLarge } from "../errors.ts";
import { describeSpec, elementCount, type HostTensor, type TensorSpec } from "../engine/tensor.ts";

/** Rows whose input holds more elements than this report `original_data: null`. */
export const ORIGINAL_DATA_MAX_ELEMENTS = 4096;

/** A decoded request batch. */
export interface DecodedInput {
  /** Number of input rows (records). */
  rows: number;
  /** One tensor per model input, batch dim first. */
  tensors: Record<string, HostTensor>;
  /** The row as sent (JSON-ready), or null when over ORIGINAL_DATA_MAX_ELEMENTS. */
  originalData(row: number): unknown;
  /** `JSON.stringify(originalData(row))`, where the decoder writes it faster than that. */
  originalJson?(row: number): string;
  /**
   * Every column as sent, for the Arrow reply's `in.*` columns: the parsed
   * records, or the Arrow table. Absent: only the model inputs are known.
   */
  sent?: SentColumns;
  /**
   * Request-level values beside the inputs (a V2 request's `parameters`): a keyed A/B split reads its key here when
   * the request has no column of that name, as a V2 request can carry only model inputs.
   */
  parameters?: Readonly<Record<string, unknown>>;
}

/** The request's columns as the client sent them. */
export type SentColumns =
  | { readonly records: readonly Record<string, unknown>[] }
  | { readonly table: Table };

/** True when a row's model inputs together hold at most ORIGINAL_DATA_MAX_ELEMENTS elements. */
export function keepsOriginalData(tensors: Record<string, HostTensor>, rows: number): boolean {
  let perRow = 0;
  for (const t of Object.values(tensors)) perRow += elementCount(t.dims) / rows;
  return perRow <= ORIGINAL_DATA_MAX_ELEMENTS;
}

/** The error for a model input with no column of its name; `where` says where it was missing. */
export function missingColumn(where: string, spec: TensorSpec, columnsSent: readonly string[]): BadInput {
  return new BadInput(
    `${where} has no column '${spec.name}' for model input '${spec.name}' (${describeSpec(spec)}); columns sent: ${
      columnsSent.length ? columnsSent.map((k) => `'${k}'`).join(", ") : "none"
    }`,
    "missing_column",
  );
}

/** The error for a request of more rows than MAX_REQUEST_ROWS allows (413 `too_many_rows`). */
export function tooManyRows(rows: number, maxRows: number): PayloadTooLarge {
  return new PayloadTooLarge(
    `the request has ${rows} rows; the limit is ${maxRows} (MAX_REQUEST_ROWS): send them in smaller requests`,
    "too_many_rows",
  );
}
