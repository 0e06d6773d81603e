import { gatherSmallBody } from "../../src/codec/gathered_body.ts";
import { assert, assertEquals, assertRejects } from "../support/assert.ts";

/** A stream of `pieces`, each of `size` bytes valued by its index; counts what was pulled and whether it was cancelled. */
function pieces(count: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === count) return controller.close();
      controller.enqueue(new Uint8Array(size).fill(seen.pulled++));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 }); // pulled only when read, so `pulled` counts what was read
  return { stream, seen };
}

Deno.test("a stream that ends within the limit comes back as one body, byte for byte", async () => {
  for (const [count, size, limit] of [[0, 4, 10], [3, 4, 12], [1, 12, 12]]) {
    const { stream } = pieces(count, size);
    const body = await gatherSmallBody(stream, limit);
    assert(body instanceof Uint8Array, `${count}×${size} within ${limit}`);
    assertEquals(Array.from(body), Array.from({ length: count * size }, (_, i) => Math.floor(i / size)));
  }
});

Deno.test("a longer stream comes back streamed: what was read, then the rest when pulled, the same bytes", async () => {
  const { stream, seen } = pieces(10, 4);
  const body = await gatherSmallBody(stream, 10);
  assert(body instanceof ReadableStream);
  assertEquals(seen.pulled, 3, "reading stops once past the limit");
  const bytes = new Uint8Array(await new Response(body).arrayBuffer());
  assertEquals(Array.from(bytes), Array.from({ length: 40 }, (_, i) => Math.floor(i / 4)));
});

Deno.test("a client leaving a streamed body cancels the source; an error while gathering is thrown, not sent", async () => {
  const { stream, seen } = pieces(10, 4);
  const body = await gatherSmallBody(stream, 4) as ReadableStream<Uint8Array>;
  const reader = body.getReader();
  assertEquals((await reader.read()).value!.length, 8);
  await reader.cancel();
  assert(seen.cancelled);

  const failing = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(2));
      controller.error(new Error("the log went away"));
    },
  });
  await assertRejects(() => gatherSmallBody(failing, 100), /the log went away/);
});
