/**
 * The CLI as users run it: --help lists every option with its environment
 * variable and default; invalid values stop start-up with exit code 2 and a
 * message naming the variable; flags win over the environment.
 */
import { OPTIONS } from "../../src/config.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { runTern, startTern } from "../support/tern_process.ts";

Deno.test("tern --help lists every option with its env name and default", async () => {
  const { code, stdout } = await runTern(["--help"]);
  assertEquals(code, 0);
  for (const o of OPTIONS) {
    assertMatch(stdout, new RegExp(`--${o.flag}\\b[^\\n]*\\n\\s+${o.env}: `), `--help lacks ${o.flag}/${o.env}`);
  }
  assertMatch(stdout, /PORT: .*\[default: 8080\]/);
  assertMatch(stdout, /CONFIG_CPUS: .*\[default: all cores \(\d+\)\]/);
});

Deno.test("tern --help answers even when the environment holds invalid values", async () => {
  const { code, stdout } = await runTern(["--help"], { PORT: "abc", CONFIG_CPUS: "0" });
  assertEquals(code, 0);
  assertMatch(stdout, /Usage: tern/);
});

Deno.test("tern --version names the version", async () => {
  const { code, stdout } = await runTern(["--version"]);
  assertEquals(code, 0);
  assertMatch(stdout, /^tern \d+\.\d+\.\d+ \(deno 2\.7\.11\)/);
});

/** A file where a folder or a PEM file is expected. */
const NOT_PEM = Deno.makeTempFileSync({ prefix: "tern-cli-not-pem-" });
Deno.writeTextFileSync(NOT_PEM, "not a PEM file\n");
globalThis.addEventListener("unload", () => Deno.removeSync(NOT_PEM));

const BAD: [string, Record<string, string>, string[], RegExp][] = [
  [
    "storage without page size",
    { LOCAL_INFERENCE_STORAGE: "1Gi" },
    [],
    /LOCAL_INFERENCE_STORAGE is set but PLATEAU_PAGE_SIZE is not/,
  ],
  [
    "page size without storage",
    { PLATEAU_PAGE_SIZE: "100" },
    [],
    /PLATEAU_PAGE_SIZE is set but LOCAL_INFERENCE_STORAGE/,
  ],
  [
    "unknown size unit",
    { LOCAL_INFERENCE_STORAGE: "10MB", PLATEAU_PAGE_SIZE: "100" },
    [],
    /LOCAL_INFERENCE_STORAGE='10MB' has unknown size unit 'MB': use Ki, Mi, Gi or Ti/,
  ],
  ["CONFIG_CPUS=0", { CONFIG_CPUS: "0" }, [], /CONFIG_CPUS='0' must be a positive number of CPUs/],
  ["CONFIG_CPUS=abc", { CONFIG_CPUS: "abc" }, [], /CONFIG_CPUS='abc' must be a positive number of CPUs/],
  [
    "unreadable OCI_PASSWORD_FILE",
    { OCI_PASSWORD_FILE: "/no/such/secret" },
    [],
    /OCI_PASSWORD_FILE='\/no\/such\/secret' cannot be read/,
  ],
  ["bad port", { PORT: "99999" }, [], /PORT='99999' must be a port number/],
  ["bad DEBUG", { DEBUG: "maybe" }, [], /DEBUG='maybe' must be true or false/],
  ["bad EDGE_BUNDLE", { EDGE_BUNDLE: "%%%" }, [], /EDGE_BUNDLE is not valid base64/],
  ["bad flag value", {}, ["--config-cpus=-3"], /CONFIG_CPUS='-3' must be a positive number of CPUs/],
  ["unknown flag", {}, ["--no-such-flag"], /no-such-flag/],
  ["unknown command", {}, ["frobnicate"], /unknown command 'frobnicate'/],
  ["HOST that does not resolve", { HOST: "no-such-host.invalid" }, [], /HOST='no-such-host\.invalid' does not resolve/],
  ["HOST not of this machine", { HOST: "10.254.254.254" }, [], /HOST='10\.254\.254\.254' is not an address of this/],
  ["PERSISTENT_VOLUME_DIR a file", { PERSISTENT_VOLUME_DIR: NOT_PEM }, [], /PERSISTENT_VOLUME_DIR='[^']+' is a file/],
  [
    "TLS files that are no PEM pair",
    { TLS_CERT: NOT_PEM, TLS_KEY: NOT_PEM },
    [],
    /TLS_CERT='[^']+' and TLS_KEY='[^']+' are not a PEM certificate \(chain\) and its private key/,
  ],
  ["API_TOKEN with a space", { API_TOKEN: "my token" }, [], /API_TOKEN holds whitespace/],
  ["ONNXRUNTIME_LIB_DIR without onnxruntime", { ONNXRUNTIME_LIB_DIR: "/tmp" }, [], /holds no libonnxruntime\.so\.1/],
];

for (const [name, env, args, message] of BAD) {
  Deno.test(`invalid start-up value exits 2 naming it: ${name}`, async () => {
    const { code, stderr } = await runTern(args, env);
    assertEquals(code, 2, stderr);
    assertMatch(stderr, message);
  });
}

Deno.test("a port another process holds stops start-up with exit 1 (it may come free) naming the address", async () => {
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = held.addr as Deno.NetAddr;
    const { code, stderr } = await runTern([], { HOST: "127.0.0.1", PORT: String(port) });
    assertEquals(code, 1, stderr);
    assertMatch(stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use by another process`));
  } finally {
    held.close();
  }
});

Deno.test("tern publish checks the spec and its files first: their errors come before any reference or registry error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-cli-spec-" });
  try {
    const publish = async (spec: unknown) => {
      await Deno.writeTextFile(`${dir}/pipeline.json`, JSON.stringify(spec));
      return await runTern(["publish", dir]); // no reference, no OCI_REGISTRY: the reference alone would fail too
    };
    const cases: [unknown, RegExp][] = [
      [{ name: "Bad Name", steps: [] }, /pipeline name 'Bad Name' must match/],
      [{ name: "ok", steps: [] }, /no steps \(add some to the spec's "steps", or give --model FILE\)/],
      [{ name: "ok", steps: [{ model: "m", file: "nope.onnx" }] }, /model file \S*nope\.onnx: No such file/],
    ];
    for (const [spec, message] of cases) {
      const { code, stdout, stderr } = await publish(spec);
      assertEquals(code, 2, stderr);
      assertMatch(stderr, message);
      assert(!stdout.includes("Publishing"), stdout);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a flag wins over its environment variable", async () => {
  // The environment's CONFIG_CPUS is invalid; the flag's value is used instead, so start-up passes.
  const { code, stderr } = await runTern(["--config-cpus", "1", "--version"], { CONFIG_CPUS: "abc" });
  assertEquals(code, 0, stderr);
});

Deno.test("the OCI password never appears in a start-up error", async () => {
  const { code, stderr, stdout } = await runTern([], {
    PIPELINE_URL: "registry.example.com/p/x:1",
    OCI_PASSWORD: "s3cr3t-Pa55",
    CONFIG_CPUS: "zero",
  });
  assertEquals(code, 2);
  assert(!stderr.includes("s3cr3t-Pa55") && !stdout.includes("s3cr3t-Pa55"));
});

Deno.test("DEBUG=true logs the config without secrets, and each request", async () => {
  const tern = await startTern({
    env: { DEBUG: "true", OCI_PASSWORD: "s3cr3t-Pa55", OCI_USERNAME: "robot" },
  });
  try {
    await (await fetch(`${tern.url}/pipelines`)).body?.cancel();
  } finally {
    await tern.stop();
  }
  assertMatch(tern.output(), /debug: config .*"ociUsername":"robot".*"ociPassword":"\*\*\*"/);
  assertMatch(tern.output(), /debug: GET \/pipelines 200 [\d.]+ ms/);
  assert(!tern.output().includes("s3cr3t-Pa55"));
});

Deno.test("CONFIG_CPUS=1.0, as in the Wallaroo docker run example, starts and serves", async () => {
  const tern = await startTern({ env: { CONFIG_CPUS: "1.0" } });
  try {
    const res = await fetch(`${tern.url}/pipelines`);
    assertEquals((await res.json()).pipelines[0].status, "Running");
  } finally {
    await tern.stop();
  }
});

Deno.test("--debug (the flag, not only DEBUG=true) prints the stack of a failure", async () => {
  const plain = await runTern(["pull", "127.0.0.1:1/p/x:1"]);
  assertEquals(plain.code, 1);
  assertMatch(plain.stderr, /^tern: registry 127\.0\.0\.1:1 is unreachable/m);
  assert(!/^\s+at /m.test(plain.stderr), plain.stderr);
  const debug = await runTern(["pull", "127.0.0.1:1/p/x:1", "--debug"]);
  assertEquals(debug.code, 1);
  assertMatch(debug.stderr, /^\s+at .*main\.ts/m);
});

Deno.test("--help says the password flag is visible to other users and offers OCI_PASSWORD_FILE", async () => {
  const { stdout } = await runTern(["--help"]);
  assertMatch(stdout, /OCI_PASSWORD: .*visible to other users in the process list/);
  assertMatch(stdout, /--oci-password-file <value>\n\s+OCI_PASSWORD_FILE: /);
});
