/**
 * @module
 * Reads a Prometheus text exposition with Prometheus' own reference parser
 * (the Python client's `text_string_to_metric_families`, Debian's
 * python3-prometheus-client), independent of prom-client, which writes it.
 * Text the parser refuses fails the test with its error.
 */
import { requireSystemPackage } from "./system_packages.ts";
import { runPython } from "./python.ts";

/** One sample: its full name (`…_bucket`, `…_count`), labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: each family's type, and every sample. */
export interface Exposition {
  types: Record<string, string>;
  samples: Sample[];
  /** The value of the sample `name` whose labels include `labels`; throws when none or several match. */
  value(name: string, labels?: Record<string, string>): number;
  /** Samples named `name` whose labels include `labels`. */
  find(name: string, labels?: Record<string, string>): Sample[];
}

const PARSE = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
types, samples = {}, []
for family in text_string_to_metric_families(sys.stdin.read()):
    types[family.name] = family.type
    for s in family.samples:
        v = s.value
        samples.append({"name": s.name, "labels": s.labels, "value": v if math.isfinite(v) else str(v)})
print(json.dumps({"types": types, "samples": samples}))
`;

/** Parses `text` with the reference parser. */
export async function parseExposition(text: string): Promise<Exposition> {
  await requireSystemPackage("python3-prometheus-client");
  const out = await runPython(PARSE, text);
  if (!out.success) throw new Error(`the Prometheus parser refused the exposition: ${out.stderr}`);
  const parsed = JSON.parse(out.stdout) as {
    types: Record<string, string>;
    samples: Sample[];
  };
  const samples = parsed.samples.map((s) => ({ ...s, value: Number(s.value) }));
  const find = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    types: parsed.types,
    samples,
    find,
    value(name, labels = {}) {
      const found = find(name, labels);
      if (found.length !== 1) {
        throw new Error(
          `${found.length} samples ${name} ${JSON.stringify(labels)}; there are: ${
            samples.filter((s) => s.name === name).map((s) => JSON.stringify(s.labels)).join(" ")
          }`,
        );
      }
      return found[0].value;
    },
  };
}
