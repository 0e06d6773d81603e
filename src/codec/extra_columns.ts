/**
 * @module
 * Which columns a log row brings beyond the fixed ones of the Arrow `/logs` reply: `anomaly.<name>` per
 * validation, and `shadow_data` when it has shadow outputs. Kept free of Arrow, so the log's writer (which
 * records the columns each request brings) loads no Arrow code.
 */
import type { StoredLogRow } from "../logs/query.ts";

/** The extra columns of rows checked by the validations `names` (in order), with shadow outputs when `shadows`. */
export function extraColumns(names: readonly string[], shadows: boolean): string[] {
  const columns = names.map((name) => `anomaly.${name}`);
  if (shadows) columns.push("shadow_data");
  return columns;
}

/** A row's extra columns, from its anomaly JSON (`{}` or empty: no validations) and whether it has shadows. */
function rowExtraColumns(anomalyJson: string, shadows: boolean): string[] {
  return extraColumns(anomalyJson && anomalyJson !== "{}" ? Object.keys(JSON.parse(anomalyJson)) : [], shadows);
}

/** The extra columns `rows` have values for, sorted (as the log lists them). */
export function extraColumnsOf(rows: readonly Pick<StoredLogRow, "anomalyJson" | "shadowJson">[]): string[] {
  const names = new Set<string>();
  // A pipeline's rows share a few anomaly JSON texts: each is parsed once.
  const parsed = new Set<string>();
  for (const r of rows) {
    const anomalyJson = r.anomalyJson ?? "{}";
    const anomaly = parsed.has(anomalyJson) ? "{}" : anomalyJson;
    parsed.add(anomalyJson);
    for (const name of rowExtraColumns(anomaly, Boolean(r.shadowJson) && r.shadowJson !== "{}")) names.add(name);
  }
  return [...names].sort();
}
