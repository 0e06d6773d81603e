/**
 * @module
 * A model that refuses its input is an error the caller reports (a 400 naming
 * onnxruntime's reason), not a red `[E:onnxruntime…]` line onnxruntime prints
 * on stderr for every bad request. Run in a process of its own so its stderr
 * can be read.
 */
import { assertEquals, assertMatch } from "../support/assert.ts";

const SCRIPT = `
import { createOrtNativeBackend } from ${
  JSON.stringify(new URL("../../src/engine/ort_native.ts", import.meta.url).href)
};
const backend = await createOrtNativeBackend({ threads: 1 });
const session = await backend.load(await Deno.readFile(${
  JSON.stringify(new URL("../testdata/pairs.onnx", import.meta.url).pathname)
}), "pairs");
try {
  await session.run({ x: { type: "float32", data: new Float32Array([1]), dims: [1, 1] } });
  console.log("ran");
} catch (err) {
  console.log("refused: " + err.message);
}
await session.release();
`;

Deno.test("an input the model refuses is reported through the error, with nothing printed by onnxruntime", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, SCRIPT],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assertMatch(stdout, /^refused: .*cannot be reshaped to the requested shape/m);
  assertEquals(stderr.split("\n").filter((l) => /onnxruntime|\[E:/.test(l)), []);
});
