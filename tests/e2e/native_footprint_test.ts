/**
 * What loading native onnxruntime leaves behind, through the real tern
 * process: onnxruntime 1.29+ starts Microsoft's telemetry unless
 * ORT_DISABLE_TELEMETRY=1 is set before it loads (it uploads where a CA bundle
 * is readable, keeps a device id and an event cache in $HOME, and leaves
 * `.ses` and an empty `mat-debug-<pid>.log` in $TMPDIR). tern turns it off, so
 * none of that appears.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { loadReference, maxRelativeError, recordsBody } from "../support/reference.ts";
import { startTern, type TernProcess } from "../support/tern_process.ts";

const ref = loadReference();

/** Deno's cache folder, kept when tern runs with another $HOME (the source run needs it). */
const DENO_DIR = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" }).output()).stdout,
  ),
).denoDir as string;

/** True when this machine lets an unprivileged process have a user and mount namespace of its own. */
const CAN_HIDE_CA_BUNDLES = await new Deno.Command("unshare", {
  args: ["-r", "-m", "sh", "-c", "mount -t tmpfs none /etc/ssl"],
  stdout: "null",
  stderr: "null",
}).output().then((out) => out.success, () => false);

/**
 * Serves the demo on the native backend with $HOME and $TMPDIR in fresh
 * folders, runs one inference, stops, and hands `check` tern's output, pid
 * and the two folders.
 */
async function withNativeTern(
  wrap: string[],
  check: (tern: TernProcess, output: string, home: string, tmp: string) => Promise<void>,
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "tern-home-" });
  const tmp = await Deno.makeTempDir({ prefix: "tern-tmpdir-" });
  try {
    const tern = await startTern({
      wrap,
      env: { INFERENCE_BACKEND: "native", HOME: home, TMPDIR: tmp, DENO_DIR, ORT_DISABLE_TELEMETRY: "0" },
    });
    let output: string;
    try {
      const res = await fetch(`${tern.url}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json; format=pandas-records" },
        body: recordsBody(ref.inputs.slice(0, 1)),
      });
      assertEquals(res.status, 200);
      const value = (await res.json())[0].outputs[0].Float.data[0];
      assert(maxRelativeError([value], ref.predictions.slice(0, 1)) <= 1e-4);
    } finally {
      await tern.stop();
      output = tern.output();
    }
    assert(/backend native/.test(output), `the demo did not run on the native backend:\n${output}`);
    await check(tern, output, home, tmp);
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove(tmp, { recursive: true });
  }
}

async function entries(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("the native backend leaves no telemetry state or stray files: no device id or event cache in $HOME, no mat-debug-<pid>.log or .ses in $TMPDIR or /tmp (even with ORT_DISABLE_TELEMETRY=0 inherited)", () =>
  withNativeTern([], async (tern, _output, home, tmp) => {
    assertEquals(await entries(home), [], "tern (onnxruntime) wrote into $HOME");
    const left = (await entries(tmp)).filter((name) => /^mat-debug-|^\.ses$/.test(name));
    assertEquals(left, [], "onnxruntime's telemetry files in $TMPDIR");
    const stray = `/tmp/mat-debug-${tern.pid}.log`;
    assert(!(await Deno.stat(stray).then(() => true, () => false)), `${stray} exists`);
  }));

Deno.test({
  name:
    "onnxruntime's telemetry is off: with no CA bundle readable, the library never sets up its uploader (no 'No readable CA bundle' warning)",
  ignore: !CAN_HIDE_CA_BUNDLES,
  fn: () =>
    // /etc/ssl emptied in a mount namespace of tern's own: with telemetry on, onnxruntime warns that it cannot upload.
    withNativeTern(
      ["unshare", "-r", "-m", "sh", "-c", 'mount -t tmpfs none /etc/ssl && exec "$@"', "sh"],
      async (_tern, output, home) => {
        assert(!/CA bundle|telemetry/i.test(output), `onnxruntime's telemetry started:\n${output}`);
        assertEquals(await entries(home), [], "tern (onnxruntime) wrote into $HOME");
      },
    ),
});
