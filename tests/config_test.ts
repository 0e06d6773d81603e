import { parseConfig, parseSize } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";
import { assertEquals, assertThrows } from "./support/assert.ts";

const MACHINE = { cpus: 4, persistentVolumeDir: "./persist" };

Deno.test("defaults: demo pipeline, port 8080 on all interfaces, every core, 100Mi bodies", () => {
  const c = parseConfig([], {}, MACHINE);
  assertEquals(c.command, "serve");
  assertEquals(c.pipelineUrl, undefined);
  assertEquals([c.host, c.port, c.configCpus, c.debug], ["0.0.0.0", 8080, 4, false]);
  assertEquals(c.persistentVolumeDir, "./persist");
  assertEquals(c.maxRequestBytes, 100 * 2 ** 20);
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
