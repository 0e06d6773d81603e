import { WalSyncer } from "../../src/logs/wal_sync.ts";
import { assertEquals, assertMatch } from "../support/assert.ts";

/** Runs `fn` with console.error captured. */
async function errorsOf(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return lines;
}

Deno.test("the WAL syncer follows SQLite's file: absent, created, replaced; close waits for a sync under way", async () => {
  const dir = await Deno.makeTempDir();
  const wal = `${dir}/log.db-wal`;
  const syncer = new WalSyncer(wal, 60_000); // the timer stays out of the way: syncs are driven by hand
  try {
    const errors = await errorsOf(async () => {
      syncer.committed();
      await syncer.sync(); // no WAL yet (nothing written): not an error, tried again later
      await Deno.writeTextFile(wal, "frames");
      await syncer.sync(); // retried because the first found no file
      await Deno.remove(wal);
      await Deno.writeTextFile(wal, "new frames"); // a new inode, as when SQLite recreates the WAL
      syncer.committed();
      const underway = syncer.sync();
      syncer.committed();
      await syncer.close(); // waits for `underway`, then syncs the last commit
      await underway;
    });
    assertEquals(errors, []);
  } finally {
    await syncer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a WAL that cannot be synced is reported on every try, naming what a power cut would cost", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/file`, "");
  const syncer = new WalSyncer(`${dir}/file/log.db-wal`, 60_000); // ENOTDIR: an error other than "not there yet"
  try {
    const errors = await errorsOf(async () => {
      for (let i = 0; i < 2; i++) {
        syncer.committed();
        await syncer.sync();
      }
    });
    assertEquals(errors.length, 2, errors.join("\n"));
    // flush() syncs though nothing was committed through a syncer (another connection's rows): it tries, and says so.
    const idle = new WalSyncer(`${dir}/file/other.db-wal`, 60_000);
    assertEquals((await errorsOf(() => idle.sync())).length, 0, "sync() with nothing committed here tries nothing");
    assertEquals((await errorsOf(() => idle.flush())).length, 1);
    await errorsOf(() => idle.close());
    for (const e of errors) {
      assertMatch(e, /syncing the WAL failed; rows committed since the last sync may not survive a power cut: .+/);
    }
  } finally {
    await errorsOf(() => syncer.close());
    await Deno.remove(dir, { recursive: true });
  }
});
