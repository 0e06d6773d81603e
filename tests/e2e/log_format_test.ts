/**
 * LOG_FORMAT=json through the real processes: every line tern and tern hub
 * print is one JSON object `{"time","level","msg"}` (start-up, DEBUG request
 * lines, an Ops error on stderr, the stop), as a log shipper reads them.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { freePort, runToExit, startHub } from "../support/hub_process.ts";
import { startTern } from "../support/tern_process.ts";

interface Line {
  time: string;
  level: string;
  msg: string;
}

/** Every line of `output`, each parsed as JSON (a line that is not fails the test, naming it). */
function jsonLines(output: string): Line[] {
  return output.split("\n").filter((l) => l.trim() !== "").map((l) => {
    let line: Line;
    try {
      line = JSON.parse(l);
    } catch {
      throw new Error(`not a JSON line: ${l}`);
    }
    assertEquals(Object.keys(line).sort(), ["level", "msg", "time"], l);
    assert(Number.isFinite(Date.parse(line.time)), l);
    return line;
  });
}

Deno.test("LOG_FORMAT=json: every line tern prints is {time, level, msg}", async () => {
  const bundle = btoa(
    ["export EDGE_NAME=edge-json", "export JOIN_TOKEN=t", "export OPSCENTER_HOST=ops.invalid"].join("\n"),
  );
  const tern = await startTern({ env: { LOG_FORMAT: "json", DEBUG: "true", EDGE_BUNDLE: bundle } });
  const res = await fetch(`${tern.url}/models`);
  await res.body?.cancel();
  assertEquals(await tern.stop(), 0);
  const lines = jsonLines(tern.output());
  const find = (pattern: RegExp) => lines.find((l) => pattern.test(l.msg));
  assertEquals(find(/^Listening on http:\/\//)?.level, "info");
  assertEquals(find(/^debug: GET \/models 200/)?.level, "info");
  assertEquals(find(/^Ops: joining failed/)?.level, "error");
  assertEquals(find(/^SIGTERM: finishing in-flight requests/)?.level, "info");
});

Deno.test("LOG_FORMAT=json: tern hub's lines too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-hub-json-" });
  const hub = await startHub({ stateDir: dir }, freePort(), { LOG_FORMAT: "json" });
  try {
    await (await fetch(`${hub.url}/health`)).body?.cancel();
  } finally {
    await hub.stop();
    await Deno.remove(dir, { recursive: true });
  }
  const lines = jsonLines(hub.output());
  assertMatch(lines[0].msg, /^tern hub listening on http:\/\//);
  assertEquals(lines[0].level, "info");
});

Deno.test("LOG_FORMAT=json leaves a command's output as it is: add-edge still prints the bare bundle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-hub-json-" });
  try {
    const out = await runToExit(
      ["hub", "add-edge", "--name", "e", "--opscenter-host", "hub:8090", "--state-dir", dir],
      { LOG_FORMAT: "json" },
    );
    assertEquals(out.code, 0);
    assertMatch(atob(out.stdout.trim()), /EDGE_NAME=e/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
