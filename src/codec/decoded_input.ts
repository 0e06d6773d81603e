/**
 * @module
 * What a request decoder hands to the pipeline: one tensor per model input,
 * the row count, and access to each row as the client sent it.
 */
import type { HostTensor } from "../engine/tensor.ts";

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
}
