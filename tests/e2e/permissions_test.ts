/**
 * @module
 * The permission set at work in the real process (and in dist/tern with TERN_BIN, where it is fixed at compile time):
 * tern writes only its own folders and reads files only where it may, and the binary's native libraries are extracted
 * once into the temp folder and reused, with no copies left behind.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { runTern, startTern } from "../support/tern_process.ts";
import { until } from "../support/hub_process.ts";

const ref = loadReference();
const COMPILED = Deno.env.get("TERN_BIN") !== undefined;

/** POSTs one demo row to `${url}/infer`; its status (the body is dropped). */
async function inferOneRow(url: string): Promise<number> {
  const res = await fetch(`${url}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: recordsBody(ref.inputs.slice(0, 1)),
  });
  await res.body?.cancel();
  return res.status;
}

/** `POST ${url}/logs` with no filter. */
function postLogs(url: string): Promise<Response> {
  return fetch(`${url}/logs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
}

/** A fresh folder outside every folder tern may read or write (/var/tmp; tern may use /tmp). */
async function outsideFolder(): Promise<string> {
  return await Deno.makeTempDir({ dir: "/var/tmp", prefix: "tern-outside-" });
}

Deno.test("a PERSISTENT_VOLUME_DIR outside the folders tern may write stops start-up naming it; nothing is written there", async () => {
  const outside = await outsideFolder();
  try {
    const out = await runTern([], { PERSISTENT_VOLUME_DIR: `${outside}/persist` });
    assertEquals(out.code, 2, out.stderr);
    assertMatch(out.stderr, /PERSISTENT_VOLUME_DIR='[^']*' is outside the folders tern may write \(\/persist, /);
    assertEquals([...Deno.readDirSync(outside)], []);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test({
  name: "the binary with a TMPDIR outside /tmp, where it may not load its native libraries, stops at once naming it",
  ignore: !COMPILED,
  fn: async () => {
    const outside = await outsideFolder();
    try {
      const out = await runTern([], { TMPDIR: outside });
      assertEquals(out.code, 2, out.stderr);
      assertMatch(out.stderr, /^tern: TMPDIR='[^']*': tern loads its native libraries from the temp folder/);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  },
});

Deno.test("tern publish of a model outside the folders tern may read is refused, naming where it reads", async () => {
  const outside = await outsideFolder();
  try {
    await Deno.copyFile(new URL("../../assets/demo/house-price-estimator.onnx", import.meta.url), `${outside}/m.onnx`);
    const out = await runTern(["publish", "--name", "m", "--model", `${outside}/m.onnx`, "127.0.0.1:1/p/m:v1"]);
    assertEquals(out.code, 2, out.stderr);
    assertMatch(
      out.stderr,
      /Requires read access to "[^"]*m\.onnx": tern reads files only in the folder tern is started in/,
    );
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test({
  name:
    "the binary extracts onnxruntime's library once into $TMPDIR/tern-native-<sha256>/ and reuses it; Deno's copies of the addons are removed",
  ignore: !COMPILED,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "tern-tmpdir-" });
    try {
      const inodes: (number | null)[] = [];
      for (const _run of [1, 2]) {
        const tern = await startTern({ env: { TMPDIR: tmp, INFERENCE_BACKEND: "native" } });
        try {
          assertEquals(await inferOneRow(tern.url), 200);
        } finally {
          await tern.stop();
        }
        // Left in $TMPDIR: the library's folder alone (no addon copies, no tern-addons-* folder).
        const names = [...Deno.readDirSync(tmp)].map((e) => e.name);
        const folders = names.filter((n) => /^tern-native-[0-9a-f]{16}$/.test(n));
        assertEquals(names, folders, `left in $TMPDIR: ${names}`);
        assertEquals(folders.length, 1);
        const library = Deno.statSync(`${tmp}/${folders[0]}/libonnxruntime.so.1`);
        assertEquals((Deno.statSync(`${tmp}/${folders[0]}`).mode ?? 0) & 0o777, 0o700);
        assert(library.size > 10_000_000);
        inodes.push(library.ino);
      }
      assertEquals(inodes[0], inodes[1], "the second start extracted the library again");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "the binary removes the addon copies of later loads too: libSQL's for the log reader started by the first /logs, within seconds, while tern serves",
  ignore: !COMPILED,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "tern-tmpdir-" });
    const tern = await startTern({ env: { TMPDIR: tmp } });
    try {
      const [addons] = [...Deno.readDirSync(tmp)].map((e) => e.name).filter((n) => n.startsWith("tern-addons-"));
      assert(addons, `no tern-addons-* folder in $TMPDIR`);
      const copies = () => [...Deno.readDirSync(`${tmp}/${addons}`)].map((e) => e.name);
      await until("start-up's copies removed", () => copies().length === 0);
      assertEquals(await inferOneRow(tern.url), 200);
      const res = await postLogs(tern.url);
      assertEquals(res.status, 200);
      await res.body?.cancel();
      // The reader worker loads libSQL from a copy of its own (9.7 MB), which nothing needs once it is loaded.
      await until("the reader's copy", () => copies().length === 1);
      await until("the late copy removed", () => copies().length === 0);
      // Loaded addons stay loaded: the log still reads.
      const again = await fetch(`${tern.url}/logs/status`);
      assertEquals(again.status, 200);
      await again.body?.cancel();
      const logs = await postLogs(tern.url);
      assertEquals(logs.status, 200);
      assertEquals((await logs.json()).length, 1);
    } finally {
      await tern.stop();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
