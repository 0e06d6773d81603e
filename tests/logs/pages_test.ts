import { logRows } from "../../src/logs/entry.ts";
import { openLogPages, openLogStore } from "../../src/logs/store.ts";
import { assertEquals, assertRejects } from "../support/assert.ts";
import { demoEntry } from "../support/log_entry.ts";

Deno.test("the reading log worker starts on first use: nothing is opened before, and a start that failed is tried again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-pages-" });
  const pages = openLogPages(`${dir}/log`); // no database there yet: opening it would fail now
  try {
    await assertRejects(() => pages.backlog(), /inference-log\.db/);
    const store = await openLogStore({ dir: `${dir}/log`, sync: "normal", walLimitBytes: 1 << 20 });
    try {
      await store.commit(logRows(demoEntry(0, 3), "p"));
      assertEquals(await pages.backlog(), 3, "the next call starts the worker again, on the now migrated log");
      assertEquals((await pages.pending(0, 10)).length, 3);
    } finally {
      await store.close();
    }
  } finally {
    await pages.close();
    await Deno.remove(dir, { recursive: true });
  }
});
