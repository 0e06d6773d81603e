/**
 * @module
 * EDGE_BUNDLE: base64 of `export KEY=VALUE` lines (BUNDLE_VERSION, EDGE_NAME,
 * JOIN_TOKEN, OPSCENTER_HOST, PIPELINE_URL, WORKSPACE_ID), as the Ops server
 * hands it out. Values may be quoted. Parsing only; joining is the Ops client's.
 */

/** Keys without which a bundle cannot join Ops. */
export const REQUIRED_BUNDLE_KEYS = [
  "EDGE_NAME",
  "JOIN_TOKEN",
  "OPSCENTER_HOST",
] as const;

/** A decoded edge bundle: its KEY=VALUE pairs. */
export type EdgeBundle = Readonly<Record<string, string>>;

/** Decodes and checks a bundle; throws Error with a reason that never includes a value. */
export function parseEdgeBundle(base64: string): EdgeBundle {
  let text: string;
  try {
    const bin = atob(base64.trim());
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw new Error("is not valid base64 of UTF-8 text");
  }
  const bundle: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not 'export KEY=VALUE'`);
    bundle[m[1]] = unquote(m[2]);
  });
  const missing = REQUIRED_BUNDLE_KEYS.filter((k) => !bundle[k]);
  if (missing.length) throw new Error(`lacks ${missing.join(", ")}`);
  return bundle;
}

function unquote(v: string): string {
  const t = v.trim();
  if (
    t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]
  ) return t.slice(1, -1);
  return t;
}
