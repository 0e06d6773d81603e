import { originalGlueUrl, PATCHED_GLUE_URL, patchGlue } from "../../scripts/patch_ort_glue.ts";
import { assert, assertEquals, assertThrows } from "../support/assert.ts";

Deno.test("the committed pthread glue is exactly the installed onnxruntime-web glue, patched", async () => {
  const original = await Deno.readTextFile(originalGlueUrl());
  const committed = await Deno.readTextFile(PATCHED_GLUE_URL);
  assert(committed === patchGlue(original), "run `deno task patch-ort-glue` after changing onnxruntime-web");
});

Deno.test("patching refuses a glue whose shim has changed", () => {
  assertThrows(() => patchGlue("export default 1;"), /expected exactly one/);
  assertEquals(typeof patchGlue, "function");
});
