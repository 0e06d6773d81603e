/**
 * Compressed Arrow through the app: a body within MAX_REQUEST_SIZE whose
 * buffers would expand past it is a 413 before anything is decompressed; the
 * same body under a larger limit is served.
 */
import { createApp } from "../../src/server/app.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { demoPipeline } from "../../src/pipeline/demo.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { ortTest, wasmBackend } from "../support/backend.ts";

ortTest("a compressed Arrow body may expand to MAX_REQUEST_SIZE, no further (413)", async () => {
  const body = await Deno.readFile(new URL("../testdata/arrow/polars_lz4_1000.arrow", import.meta.url));
  const pipelines = new PipelineManager(wasmBackend());
  await pipelines.load(await demoPipeline());
  try {
    const post = (maxBodyBytes: number) =>
      createApp({ pipelines, now: () => 1234, maxBodyBytes }).request("/infer", {
        method: "POST",
        headers: { "content-type": "application/vnd.apache.arrow.file" },
        body,
      });
    const small = await post(60_000); // the body is 48,937 bytes; its buffers expand to about 100 KB
    assert(body.length < 60_000);
    assertEquals(small.status, 413);
    const error = await small.json();
    assertEquals(error.code, "payload_too_large");
    assertMatch(error.error, /LZ4_FRAME-compressed buffers expand to more than the limit of 60000 bytes/);
    const large = await post(1 << 20);
    assertEquals(large.status, 200);
    assertEquals((await large.json()).length, 1000);
  } finally {
    await pipelines.close();
  }
});
