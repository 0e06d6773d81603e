/**
 * @module
 * Which columns a log row brings beyond the fixed ones of the Arrow `/logs` reply: `anomaly.<name>` per
 * validation, and `shadow_data` when it has shadow outputs. Kept free of Arrow, so the log's writer (which
 * records the columns it has seen) loads no Arrow code.
 */
import type { StoredLogRow } from "../logs/query.ts";

/** A row's extra columns, from its anomaly JSON (`{}` or empty: no validations) and whether it has shadows. */
export function rowExtraColumns(anomalyJson: string, shadows: boolean): string[] {
  const names = anomalyJson && anomalyJson !== "{}"
    ? Object.keys(JSON.parse(anomalyJson)).map((name) => `anomaly.${name}`)
    : [];
  if (shadows) names.push("shadow_data");
  return names;
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
