/**
 * `tern hub …` options: commands and their required flags, defaults, the
 * PostgreSQL URL check, and the test-only clock offset.
 */
import { parseConfig } from "../../src/config.ts";
import { parseHubConfig } from "../../src/hub/config.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "../support/assert.ts";
import { runHub } from "../../src/hub/commands.ts";
import { openReadsWarning } from "../../src/hub/serve.ts";

Deno.test("tern hub commands, flags and environment", () => {
  const serve = parseHubConfig(["serve"], {});
  assertEquals([serve.command, serve.host, serve.port, serve.stateDir, serve.databaseUrl, serve.opscenterHost], [
    "serve",
    "0.0.0.0",
    8090,
    "./hub-state",
    undefined,
    "localhost:8090",
  ]);
  const env = parseHubConfig(["serve", "--port", "9000"], {
    HUB_DATABASE_URL: "postgres://u:p@db:5432/tern",
    HUB_HOST: "127.0.0.1",
  });
  assertEquals([env.port, env.host, env.databaseUrl, env.opscenterHost], [
    9000,
    "127.0.0.1",
    "postgres://u:p@db:5432/tern",
    "localhost:9000",
  ]);
  const add = parseHubConfig(["add-edge", "--name", "edge-1", "--pipeline-url", "reg/p:1", "--workspace", "7"], {});
  assertEquals([add.command, add.name, add.pipelineUrl, add.workspace], ["add-edge", "edge-1", "reg/p:1", "7"]);
  assertEquals(parseHubConfig(["set-pipeline", "--edge", "edge-1", "--pipeline-url", "reg/p:2"], {}).name, "edge-1");
  assertEquals(parseHubConfig([], {}).command, "help");
  assertEquals(parseHubConfig(["serve"], { TERN_HUB_TEST_CLOCK_OFFSET_MS: "-5000" }).clockOffsetMs, -5000);

  assertThrows(() => parseHubConfig(["add-edge"], {}), /add-edge needs --name NAME/);
  assertThrows(() => parseHubConfig(["set-pipeline", "--edge", "e"], {}), /needs --pipeline-url/);
  assertThrows(() => parseHubConfig(["add-edge", "--name", "bad name"], {}), /edge name 'bad name' must be/);
  assertThrows(() => parseHubConfig(["serve"], { HUB_DATABASE_URL: "mysql://x" }), /postgres:\/\//);
  assertThrows(() => parseHubConfig(["launch"], {}), /unknown hub command 'launch'/);
  assertThrows(() => parseHubConfig(["serve", "--nope"], {}), /see tern hub --help/);
});

Deno.test("tern hub goes through the one config entry; edge Ops options are checked there", () => {
  const machine = { cpus: 2, persistentVolumeDir: "/p" };
  const c = parseConfig(["hub", "edges", "--state-dir", "/s"], { HUB_PORT: "1234" }, machine);
  assertEquals([c.command, c.hub?.command, c.hub?.stateDir, c.hub?.port], ["hub", "edges", "/s", 1234]);
  const bundle = (host: string) => btoa(`export EDGE_NAME=e\nexport JOIN_TOKEN=t\nexport OPSCENTER_HOST=${host}\n`);
  assertEquals(parseConfig([], { EDGE_BUNDLE: bundle("ops.example.com") }, machine).opsCheckinIntervalSeconds, 300);
  assertThrows(() => parseConfig([], { EDGE_BUNDLE: bundle("http://ops.example.com") }, machine), /OPS_PLAIN_HTTP/);
  assertEquals(
    parseConfig([], { EDGE_BUNDLE: bundle("http://ops.example.com"), OPS_PLAIN_HTTP: "true" }, machine).opsPlainHttp,
    true,
  );
  assertThrows(() => parseConfig([], { OPS_CHECKIN_INTERVAL: "604800" }, machine), /above 86400 seconds/);
});

Deno.test("tern hub serve warns when its read routes are open to other hosts: no HUB_API_TOKEN and not on loopback", () => {
  const warning = openReadsWarning(parseHubConfig(["serve"], {}));
  assertMatch(
    warning ?? "",
    /HUB_API_TOKEN is not set.*every edge's uploaded log .* open to whoever reaches 0\.0\.0\.0/,
  );
  for (const host of ["127.0.0.1", "localhost", "::1"]) {
    assertEquals(openReadsWarning(parseHubConfig(["serve"], { HUB_HOST: host })), undefined, host);
  }
  assertEquals(
    openReadsWarning(parseHubConfig(["serve"], { HUB_API_TOKEN: "a-long-enough-token-0123456789" })),
    undefined,
  );
});

Deno.test("the fleet commands name the hub state they use, say when they made it (a mistyped --state-dir), and that a default localhost bundle reaches only this machine", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-hub-commands-" });
  try {
    const run = async (args: string[]) => {
      const lines: string[] = [];
      await runHub(parseHubConfig([...args, "--state-dir", `${dir}/hub`], {}), {
        info: () => {},
        error: (l) => lines.push(l),
      });
      return lines.join("\n");
    };
    const first = await run(["add-edge", "--name", "edge-1"]);
    assertMatch(first, new RegExp(`hub state: libSQL ${dir}/hub/hub\\.db \\(made now: no hub has served from it`));
    assertMatch(first, /reaches this hub at localhost:8090 \(no --opscenter-host given: only an edge on this machine/);
    const second = await run(["add-edge", "--name", "edge-2", "--opscenter-host", "hub.example.com:8090"]);
    assertMatch(second, new RegExp(`hub state: libSQL ${dir}/hub/hub\\.db\\n`));
    assert(!/made now|no --opscenter-host/.test(second), second);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("add-edge and set-pipeline refuse what the edge would refuse later: an empty or malformed reference, an Ops address it cannot use", () => {
  const set = (url: string) => parseHubConfig(["set-pipeline", "--edge", "e1", "--pipeline-url", url], {});
  assertThrows(() => set(""), /--pipeline-url must not be empty/);
  assertThrows(() => set("http://foo"), /--pipeline-url 'http:\/\/foo' is not an OCI reference/);
  assertEquals(set("pipelines/a:v1").pipelineUrl, "pipelines/a:v1"); // the edge's OCI_REGISTRY supplies the host
  assertThrows(
    () => parseHubConfig(["add-edge", "--name", "e1", "--opscenter-host", "ftp://hub:80"], {}),
    /--opscenter-host 'ftp:\/\/hub:80': .*must be host\[:port\]/,
  );
  // The workspace is one word of the bundle's `export WORKSPACE_ID=…` line: empty, spaced or multi-line is refused.
  const add = (workspace: string) => parseHubConfig(["add-edge", "--name", "e1", "--workspace", workspace], {});
  for (const bad of ["", "a b", "x\nexport JOIN_TOKEN=stolen"]) {
    assertThrows(() => add(bad), /--workspace '.*' must be 1–128/s);
  }
  assertEquals(add("42").workspace, "42");
  assertEquals(parseHubConfig(["add-edge", "--name", "e1"], {}).workspace, "default");
});

Deno.test("the hub's own settings are named in its messages: HUB_PORT, not PORT", () => {
  assertThrows(() => parseHubConfig(["serve"], { HUB_PORT: "99999" }), /: HUB_PORT='99999' must be a port number/);
});
