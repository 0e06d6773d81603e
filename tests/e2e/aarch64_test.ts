/**
 * @module
 * dist/tern-aarch64 (built by the same `deno task compile`) run under Debian's qemu-user-static on this x86_64
 * machine: it starts, answers /infer on the native onnxruntime and on WASM, and /logs holds both rows. Emulation is
 * slow (a start takes about a minute), so this is the essentials only, and it runs with TERN_BIN (the suite's second
 * pass) when dist/tern-aarch64, qemu-aarch64-static and Debian's arm64 cross libc are there.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { loadReference, maxRelativeError, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ARM_BIN = new URL("../../dist/tern-aarch64", import.meta.url).pathname;
const CROSS_LIBS = "/usr/aarch64-linux-gnu/lib";
const exists = (path: string) => {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
};
const runnable = Deno.env.get("TERN_BIN") !== undefined && exists(ARM_BIN) && exists("/usr/bin/qemu-aarch64-static") &&
  exists(`${CROSS_LIBS}/ld-linux-aarch64.so.1`);
if (Deno.env.get("TERN_BIN") !== undefined && !runnable) {
  console.log(`aarch64_test: needs ${ARM_BIN}, qemu-user-static and libc6-arm64-cross: skipping`);
}
const ref = loadReference();

/**
 * qemu's root for the guest: Debian's arm64 cross libraries as /lib, and an arm64 /proc/cpuinfo (qemu-user 7.2 shows
 * the guest the host's x86 one, and onnxruntime's CPU detection then crashes on a null pointer).
 */
function guestRoot(): string {
  const root = Deno.makeTempDirSync({ prefix: "tern-aarch64-root-" });
  Deno.symlinkSync(CROSS_LIBS, `${root}/lib`);
  Deno.mkdirSync(`${root}/proc`);
  const cpu = (n: number) =>
    `processor\t: ${n}\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n` +
    `CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n`;
  Deno.writeTextFileSync(`${root}/proc/cpuinfo`, cpu(0) + cpu(1));
  return root;
}

Deno.test({
  name: "dist/tern-aarch64 under qemu-user: starts, answers /infer on native onnxruntime and on WASM, and /logs",
  ignore: !runnable,
  fn: async () => {
    const root = guestRoot();
    const persist = await Deno.makeTempDir({ prefix: "tern-aarch64-persist-" });
    // startTern runs `wrap` with tern's command line: the x86_64 binary's path is dropped for the Arm one.
    const wrap = ["sh", "-c", `shift; exec qemu-aarch64-static -L '${root}' '${ARM_BIN}' "$@"`, "sh"];
    try {
      const answers: number[] = [];
      for (const backend of ["native", "wasm"]) {
        const tern = await startTern({
          wrap,
          env: { INFERENCE_BACKEND: backend, PERSISTENT_VOLUME_DIR: persist },
          readyTimeoutMs: 300_000,
        });
        try {
          assertMatch(tern.output(), new RegExp(`Model house-price-estimator: .*backend ${backend}`));
          const res = await fetch(`${tern.url}/infer`, {
            method: "POST",
            headers: { "content-type": "application/json; format=pandas-records" },
            body: recordsBody(ref.inputs.slice(0, 1)),
          });
          assertEquals(res.status, 200);
          answers.push((await res.json())[0].outputs[0].Float.data[0]);
          assert(maxRelativeError(answers.slice(-1), ref.predictions.slice(0, 1)) <= 1e-4, `${backend}: ${answers}`);
          if (backend === "wasm") {
            const logs = await fetch(`${tern.url}/logs`, {
              method: "POST",
              headers: { "content-type": "application/json; format=pandas-records" },
              body: "{}",
            });
            assertEquals(logs.status, 200);
            const rows: { out: { variable: number[] } }[] = await logs.json();
            assertEquals(rows.map((r) => r.out.variable[0]), answers);
          }
        } finally {
          assertEquals(await tern.stop(), 0, tern.output());
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(persist, { recursive: true });
    }
  },
});
