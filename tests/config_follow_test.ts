/**
 * PIPELINE_FOLLOW_INTERVAL: seconds between checks of PIPELINE_URL's tag, 60
 * by default, 0 for never; anything else stops start-up naming it.
 */
import { parseConfig } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";
import { assertEquals, assertThrows } from "./support/assert.ts";

const MACHINE = { cpus: 4, persistentVolumeDir: "./persist" };

Deno.test("PIPELINE_FOLLOW_INTERVAL: 60 s by default, 0 for never, the flag wins; other values are refused by name", () => {
  assertEquals(parseConfig([], {}, MACHINE).pipelineFollowIntervalSeconds, 60);
  assertEquals(parseConfig([], { PIPELINE_FOLLOW_INTERVAL: "0" }, MACHINE).pipelineFollowIntervalSeconds, 0);
  const flag = parseConfig(["--pipeline-follow-interval", "1"], { PIPELINE_FOLLOW_INTERVAL: "300" }, MACHINE);
  assertEquals(flag.pipelineFollowIntervalSeconds, 1);
  for (const bad of ["-1", "1.5", "soon"]) {
    assertThrows(() => parseConfig([], { PIPELINE_FOLLOW_INTERVAL: bad }, MACHINE), ConfigError);
    assertThrows(
      () => parseConfig([], { PIPELINE_FOLLOW_INTERVAL: bad }, MACHINE),
      new RegExp(`PIPELINE_FOLLOW_INTERVAL='${bad.replace(".", "\\.")}' must be a whole number of seconds`),
    );
  }
});
