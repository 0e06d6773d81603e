import { InflightBudget } from "../../src/server/inflight.ts";
import { Unavailable } from "../../src/errors.ts";
import { assert, assertEquals } from "../support/assert.ts";

Deno.test("requests within the budget run at once; one past it waits for room, in arrival order", async () => {
  const budget = new InflightBudget(100, 10_000);
  const a = await budget.take(60);
  const b = await budget.take(40);
  assertEquals(budget.used, 100);
  const order: string[] = [];
  const c = budget.take(50).then((release) => (order.push("c"), release));
  const d = budget.take(10).then((release) => (order.push("d"), release)); // fits by size, but waits behind c
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(order, []);
  a();
  a(); // giving back twice gives back once
  const [releaseC, releaseD] = await Promise.all([c, d]);
  assertEquals(order, ["c", "d"]);
  assertEquals(budget.used, 100);
  for (const release of [b, releaseC, releaseD]) release();
  assertEquals(budget.used, 0);
});

Deno.test("a request that waits past the limit gets 503 'busy', and the budget keeps its count", async () => {
  const budget = new InflightBudget(100, 20);
  const a = await budget.take(100);
  const refused = await budget.take(1).then(() => undefined, (err) => err);
  assert(refused instanceof Unavailable);
  assertEquals(refused.message.startsWith("busy:"), true);
  a();
  assertEquals(budget.used, 0);
  (await budget.take(500))(); // larger than the whole budget: takes it all rather than never running
});
