/**
 * @module
 * The one permission set (deno.json's `tern` task) that `deno task start`, scripts/compile.sh and the end-to-end
 * tests share: narrow in every kind, and naming every environment variable tern reads.
 */
import { assert, assertEquals } from "./support/assert.ts";
import { flagEntries, permissionFlags } from "./support/permissions.ts";
import { ENV_NAMES } from "../src/config.ts";
import { withPermissionHint } from "../src/permissions.ts";

const ROOT = new URL("../", import.meta.url);
const flags = permissionFlags();

Deno.test("deno task start and deno task compile use the tern task's permission set", () => {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))).tasks;
  assertEquals(tasks.start, "deno task tern");
  assert(/tasks\.tern/.test(Deno.readTextFileSync(new URL("scripts/compile.sh", ROOT))));
});

Deno.test("every kind of access is limited: no blanket read, write, env, ffi or sys, and no run or all", () => {
  for (const kind of ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys"]) {
    const entries = flagEntries(flags, kind);
    assert(entries !== undefined && entries.length > 0, `${kind} is not limited to a list`);
  }
  assertEquals(flags.filter((f) => /^(-A|--allow-all|--allow-run|--allow-import)/.test(f)), []);
  assertEquals(flagEntries(flags, "--allow-write")!.filter((p) => p === "/" || p === "."), []);
});

Deno.test("every environment variable tern reads is allowed (a new option must be added to deno.json)", () => {
  const allowed = new Set(flagEntries(flags, "--allow-env"));
  assertEquals(ENV_NAMES.filter((name) => !allowed.has(name)), []);
  assert(allowed.has("TMPDIR"));
});

Deno.test("a denied read or write names the folders tern may use instead of Deno's advice to recompile", () => {
  const text = withPermissionHint(
    'model file /home/me/m.onnx: Requires read access to "/home/me/m.onnx", specify the required permissions during compilation using `deno compile --allow-read`',
  );
  assert(
    text.startsWith('model file /home/me/m.onnx: Requires read access to "/home/me/m.onnx": tern reads files only in'),
  );
  assert(text.includes("run it from the folder holding the file"));
  assert(!text.includes("deno compile"));
  assertEquals(withPermissionHint("connection refused"), "connection refused");
});
