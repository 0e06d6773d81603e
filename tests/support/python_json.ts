/**
 * @module
 * Reads JSON text as Python does, with Debian's interpreter and its json
 * module: what a pandas or requests user gets from tern's replies.
 */
import { assertEquals } from "./assert.ts";
import { runPython } from "./python.ts";

/** What Python's json (Debian's /usr/bin/python3) reads from `text`: `expr` evaluated with `v` the parsed value. */
export async function pythonReads(text: string, expr: string): Promise<string> {
  const out = await runPython(`import json, sys; v = json.loads(sys.stdin.read()); print(${expr})`, text);
  assertEquals(out.stderr, "");
  return out.stdout.trim();
}
