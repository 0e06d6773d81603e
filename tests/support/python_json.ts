/**
 * @module
 * Reads JSON text as Python does, with Debian's interpreter and its json
 * module: what a pandas or requests user gets from tern's replies.
 */
import { assertEquals } from "./assert.ts";

/** What Python's json (Debian's /usr/bin/python3) reads from `text`: `expr` evaluated with `v` the parsed value. */
export async function pythonReads(text: string, expr: string): Promise<string> {
  const child = new Deno.Command("/usr/bin/python3", {
    args: ["-c", `import json, sys; v = json.loads(sys.stdin.read()); print(${expr})`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  assertEquals(new TextDecoder().decode(out.stderr), "");
  return new TextDecoder().decode(out.stdout).trim();
}
