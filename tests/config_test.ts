import { OPTIONS, parseConfig, parseSize } from "../src/config.ts";
import { parseHubConfig } from "../src/hub/config.ts";
import { ConfigError } from "../src/errors.ts";
import { assertEquals, assertThrows } from "./support/assert.ts";

const MACHINE = { cpus: 4, persistentVolumeDir: "./persist" };

Deno.test("defaults: demo pipeline, port 8080 on all interfaces, every core, 16Mi bodies of at most 10,000 rows, 64Mi in flight", () => {
  const c = parseConfig([], {}, MACHINE);
  assertEquals(c.command, "serve");
  assertEquals(c.pipelineUrl, undefined);
  assertEquals([c.host, c.port, c.configCpus, c.debug], ["0.0.0.0", 8080, 4, false]);
  assertEquals(c.persistentVolumeDir, "./persist");
  assertEquals([c.maxRequestBytes, c.maxRequestRows, c.maxInflightBytes], [16 * 2 ** 20, 10_000, 64 * 2 ** 20]);
  assertEquals([c.localInferenceStorageBytes, c.plateauPageSize], [undefined, undefined]);
});

Deno.test("environment values are read and flags win over them", () => {
  const env = { PORT: "9000", CONFIG_CPUS: "2", DEBUG: "true", PIPELINE_URL: "r.example/p:1", HOST: "127.0.0.1" };
  const fromEnv = parseConfig([], env, MACHINE);
  assertEquals([fromEnv.port, fromEnv.configCpus, fromEnv.debug, fromEnv.host], [9000, 2, true, "127.0.0.1"]);
  assertEquals(fromEnv.pipelineUrl, "r.example/p:1");
  const flags = parseConfig(["--port", "9100", "--config-cpus", "1", "--pipeline-url", "r.example/p:2"], env, MACHINE);
  assertEquals([flags.port, flags.configCpus, flags.pipelineUrl], [9100, 1, "r.example/p:2"]);
});

Deno.test("LOCAL_INFERENCE_STORAGE and PLATEAU_PAGE_SIZE come together", () => {
  const c = parseConfig([], { LOCAL_INFERENCE_STORAGE: "1.5Gi", PLATEAU_PAGE_SIZE: "500" }, MACHINE);
  assertEquals(c.localInferenceStorageBytes, 1.5 * 2 ** 30);
  assertEquals(c.plateauPageSize, 500);
  assertThrows(() => parseConfig([], { LOCAL_INFERENCE_STORAGE: "1Gi" }, MACHINE), ConfigError);
  assertThrows(() => parseConfig([], { PLATEAU_PAGE_SIZE: "5" }, MACHINE), ConfigError);
  assertThrows(
    () => parseConfig([], { LOCAL_INFERENCE_STORAGE: "1Gi", PLATEAU_PAGE_SIZE: "0" }, MACHINE),
    /PLATEAU_PAGE_SIZE='0'/,
  );
  // Ops takes at most 100,000 rows a page: a larger size would have every full page refused.
  assertEquals(
    parseConfig([], { LOCAL_INFERENCE_STORAGE: "1Gi", PLATEAU_PAGE_SIZE: "100000" }, MACHINE).plateauPageSize,
    100_000,
  );
  assertThrows(
    () => parseConfig([], { LOCAL_INFERENCE_STORAGE: "1Gi", PLATEAU_PAGE_SIZE: "100001" }, MACHINE),
    /PLATEAU_PAGE_SIZE='100001' is more rows than Ops takes in one page \(100000\)/,
  );
});

Deno.test("sizes: Ki/Mi/Gi/Ti and plain bytes; other units are refused by name", () => {
  assertEquals(parseSize("X", "512"), 512);
  assertEquals(parseSize("X", "4Ki"), 4096);
  assertEquals(parseSize("X", "2Mi"), 2 * 2 ** 20);
  assertEquals(parseSize("X", "1Ti"), 2 ** 40);
  assertThrows(() => parseSize("X", "10MB"), /X='10MB' has unknown size unit 'MB'/);
  assertThrows(() => parseSize("X", "lots"), /X='lots' is not a size/);
  assertThrows(() => parseSize("X", "0Ki"), /must be larger than 0/);
});

Deno.test("EDGE_BUNDLE supplies PIPELINE_URL unless one is set", () => {
  const bundle = btoa(
    [
      "export BUNDLE_VERSION=1",
      "export EDGE_NAME=edge-1",
      'export JOIN_TOKEN="tok"',
      "export OPSCENTER_HOST=ops.example.com",
      "export PIPELINE_URL=ops.example.com/pipelines/p:abc",
      "export WORKSPACE_ID=7",
    ].join("\n"),
  );
  const c = parseConfig([], { EDGE_BUNDLE: bundle }, MACHINE);
  assertEquals(c.pipelineUrl, "ops.example.com/pipelines/p:abc");
  assertEquals(c.edgeBundle?.JOIN_TOKEN, "tok");
  assertEquals(parseConfig([], { EDGE_BUNDLE: bundle, PIPELINE_URL: "x/y:z" }, MACHINE).pipelineUrl, "x/y:z");
  assertThrows(() => parseConfig([], { EDGE_BUNDLE: btoa("export EDGE_NAME=e") }, MACHINE), /lacks JOIN_TOKEN/);
  assertThrows(() => parseConfig([], { EDGE_BUNDLE: btoa("rm -rf /") }, MACHINE), /line 1 is not 'export KEY=VALUE'/);
});

Deno.test("commands: serve by default, help and version by flag or word", () => {
  assertEquals(parseConfig(["serve"], {}, MACHINE).command, "serve");
  assertEquals(parseConfig(["-h"], {}, MACHINE).command, "help");
  assertEquals(parseConfig(["version"], {}, MACHINE).command, "version");
  assertThrows(() => parseConfig(["serve", "extra"], {}, MACHINE), /unexpected argument 'extra'/);
});

Deno.test("CONFIG_CPUS takes a positive decimal or millicores as container limits write them; threads are its whole part, at least 1, at most the cores", () => {
  const cpus = (v: string) => parseConfig([], { CONFIG_CPUS: v }, MACHINE).configCpus;
  assertEquals(["1", "1.0", "1.25", "2.0", "2.5", "0.5", " 3 ", "4.", "1000"].map(cpus), [1, 1, 1, 2, 2, 1, 3, 4, 4]);
  // Kubernetes' millicores, as a chart's resources.limits.cpu may be written.
  assertEquals(["1500m", "2000m", "500m", "250.5m"].map(cpus), [1, 2, 1, 1]);
  for (const bad of ["0", "0.0", "-1", "abc", "1e3", "1,5", "Infinity", "0m", "m", "1500M", "1.5 m"]) {
    assertThrows(() => cpus(bad), new RegExp(`CONFIG_CPUS='${bad}' must be a positive number of CPUs`));
  }
});

Deno.test("OCI_PASSWORD_FILE: the password is read from the file, its trailing newline dropped; never both", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "s3cr3t-from-file\n");
    const user = { OCI_USERNAME: "robot" };
    assertEquals(parseConfig([], { ...user, OCI_PASSWORD_FILE: file }, MACHINE).ociPassword, "s3cr3t-from-file");
    assertEquals(parseConfig(["--oci-password-file", file], user, MACHINE).ociPassword, "s3cr3t-from-file");
    assertEquals(parseConfig([], { ...user, OCI_PASSWORD: "inline" }, MACHINE).ociPassword, "inline");
    // One without the other is a mistake, said as such (a registry's login always needs both).
    assertThrows(
      () => parseConfig([], { OCI_PASSWORD: "inline" }, MACHINE),
      /OCI_PASSWORD is set but OCI_USERNAME is not/,
    );
    assertThrows(() => parseConfig([], user, MACHINE), /OCI_USERNAME is set but OCI_PASSWORD \(or OCI_PASSWORD_FILE\)/);
    assertThrows(
      () => parseConfig([], { OCI_PASSWORD_FILE: file, OCI_PASSWORD: "inline" }, MACHINE),
      /OCI_PASSWORD and OCI_PASSWORD_FILE are both set/,
    );
    await Deno.writeTextFile(file, "\n");
    assertThrows(() => parseConfig([], { ...user, OCI_PASSWORD_FILE: file }, MACHINE), /is empty/);
  } finally {
    await Deno.remove(file);
  }
  assertThrows(
    () => parseConfig([], { OCI_PASSWORD_FILE: "/no/such/secret" }, MACHINE),
    /OCI_PASSWORD_FILE='\/no\/such\/secret' cannot be read \(NotFound\)/,
  );
});

Deno.test("API_TOKEN (inline or from its file) and HUB_API_TOKEN are one word: whitespace inside is refused by name, unshown", async () => {
  assertEquals(parseConfig([], { API_TOKEN: "t0k-3n" }, MACHINE).apiToken, "t0k-3n");
  assertEquals(parseConfig([], { API_TOKEN: "" }, MACHINE).apiToken, undefined, "empty counts as unset");
  assertThrows(() => parseConfig([], { API_TOKEN: "my token" }, MACHINE), {
    message:
      "API_TOKEN holds whitespace: a bearer token is one word (Authorization: Bearer <token>), so no request could carry it",
  });
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "t0k-3n \n");
    assertThrows(() => parseConfig([], { API_TOKEN_FILE: file }, MACHINE), /^ConfigError: API_TOKEN holds whitespace/);
  } finally {
    await Deno.remove(file);
  }
  assertThrows(() => parseHubConfig(["serve"], { HUB_API_TOKEN: "a\tb" }), /HUB_API_TOKEN holds whitespace/);
});

Deno.test("config is the one place tern's settings are read: no other source file reads one of its variables", () => {
  const settings = new Set(OPTIONS.map((o) => o.env));
  const readers: string[] = [];
  const walk = (dir: URL) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(new URL(`${e.name}/`, dir));
      else if (/\.tsx?$/.test(e.name) && !/^config(_\w+)?\.ts$/.test(e.name)) {
        const text = Deno.readTextFileSync(new URL(e.name, dir));
        for (const [, name] of text.matchAll(/Deno\.env\.get\(\s*["'`]([A-Z0-9_]+)["'`]/g)) {
          if (settings.has(name)) {
            readers.push(`${new URL(e.name, dir).pathname.replace(/.*\/src\//, "src/")}: ${name}`);
          }
        }
      }
    }
  };
  walk(new URL("../src/", import.meta.url));
  assertEquals(readers, []); // DEBUG was once read again in main.ts, so --debug gave no stack traces
});

Deno.test("config loads no engine module (tern --help and config errors stay light)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../src/config.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const modules: { specifier: string }[] = JSON.parse(new TextDecoder().decode(out.stdout)).modules;
  const loaded = modules.map((m) => m.specifier);
  assertEquals(loaded.filter((s) => /\/src\/engine\/|onnxruntime/.test(s)), []);
});

Deno.test("request limits: MAX_REQUEST_ROWS stays within the log's queue bound; MAX_INFLIGHT_SIZE holds one largest request", () => {
  assertEquals(parseConfig([], { MAX_REQUEST_ROWS: "20000" }, MACHINE).maxRequestRows, 20_000);
  assertThrows(
    () => parseConfig([], { MAX_REQUEST_ROWS: "20001" }, MACHINE),
    /above 20000, the inference log's queue bound/,
  );
  assertThrows(
    () => parseConfig([], { MAX_REQUEST_SIZE: "32Mi", MAX_INFLIGHT_SIZE: "16Mi" }, MACHINE),
    /MAX_INFLIGHT_SIZE \(16777216 bytes\) is below MAX_REQUEST_SIZE/,
  );
  // Raising MAX_REQUEST_SIZE alone: the message says the other one is at its default, and what to do.
  assertThrows(
    () => parseConfig([], { MAX_REQUEST_SIZE: "100Mi" }, MACHINE),
    /MAX_INFLIGHT_SIZE \(67108864 bytes, its default\) is below MAX_REQUEST_SIZE .*raise MAX_INFLIGHT_SIZE with it/,
  );
  // A number meant as MiB is refused at start rather than refusing every request with 413.
  assertThrows(
    () => parseConfig([], { MAX_REQUEST_SIZE: "16" }, MACHINE),
    /MAX_REQUEST_SIZE is 16 bytes, below the 1024 taken: .*write 16Mi for 16 MiB/,
  );
  assertEquals(parseConfig([], { MAX_REQUEST_SIZE: "1Ki" }, MACHINE).maxRequestBytes, 1024);
  assertThrows(() => parseConfig([], { MAX_REQUEST_SIZE: "99999999999999Ti" }, MACHINE), {
    message: "MAX_REQUEST_SIZE='99999999999999Ti' is too large",
  });
});

Deno.test("BATCHING: auto by default (GPU runtimes only), true/false or the --batching flag force it; other values are refused by name", () => {
  assertEquals(parseConfig([], {}, MACHINE).batching, "auto");
  assertEquals(parseConfig([], { BATCHING: "auto" }, MACHINE).batching, "auto");
  assertEquals(parseConfig([], { BATCHING: "true" }, MACHINE).batching, "on");
  assertEquals(parseConfig([], { BATCHING: "false" }, MACHINE).batching, "off");
  assertEquals(parseConfig(["--batching"], { BATCHING: "false" }, MACHINE).batching, "on");
  assertThrows(
    () => parseConfig([], { BATCHING: "sometimes" }, MACHINE),
    /BATCHING=.sometimes. must be auto, true or false/,
  );
});

Deno.test("a boolean flag alone means true; --flag=value gives it any value its variable takes, and flags win", () => {
  const env = { BATCHING: "true", DEBUG: "true" };
  const c = (args: string[]) => parseConfig(args, env, MACHINE);
  assertEquals([c(["--batching=false"]).batching, c(["--batching=auto"]).batching, c(["--batching"]).batching], [
    "off",
    "auto",
    "on",
  ]);
  assertEquals([c(["--debug=false"]).debug, c(["--debug"]).debug, c([]).debug], [false, true, true]);
  assertThrows(
    () => c(["--debug=maybe"]),
    /DEBUG='maybe' must be true or false \(also taken: 1\/0, yes\/no, on\/off\)/,
  );
  // The value after a space is read as a command: the message says how to write it.
  assertThrows(
    () => c(["--batching", "false"]),
    /--batching takes its value after '=' \(--batching=false\), not 'false'/,
  );
});
