/**
 * Disk full: tern's volume is a small tmpfs the test mounts (root only; elsewhere the test is skipped and says
 * why), filled to the last byte under load. A request whose log rows cannot be committed is refused with a 503 JSON
 * error naming the full disk (LOG_DURABILITY=durable never acknowledges a row it has not written); the health
 * checks, /models and /logs keep answering; once space returns, inferences are acknowledged again with no restart;
 * the database passes PRAGMA integrity_check and holds every acknowledged row.
 */
import { createClient } from "@libsql/client";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { recordFigures } from "../support/figures.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { startTern, type TernProcess } from "../support/tern_process.ts";

const ref = loadReference();
const JSON_TYPE = "application/json; format=pandas-records";
/** Why the suite cannot run here (it mounts a tmpfs: root, and a kernel that lets it), or undefined. */
async function cannotMount(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "mounting the small tmpfs it fills needs root";
  const probe = await Deno.makeTempDir({ prefix: "tern-mount-probe-" });
  try {
    const mounted = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe] })
      .output();
    if (!mounted.success) return `mount -t tmpfs failed (${new TextDecoder().decode(mounted.stderr).trim()})`;
    await new Deno.Command("umount", { args: [probe] }).output();
    return undefined;
  } catch (err) {
    return `mount could not run (${(err as Error).message})`;
  } finally {
    await Deno.remove(probe).catch(() => {});
  }
}
const SKIP = await cannotMount();
if (SKIP) console.warn(`disk_full_test.ts: skipped: ${SKIP}`);

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

/** Writes `file` until the filesystem is full; returns the bytes written. */
async function fill(file: string): Promise<number> {
  const f = await Deno.open(file, { write: true, create: true });
  const chunk = new Uint8Array(16 * 1024).fill(7);
  let written = 0;
  try {
    for (;;) written += await f.write(chunk);
  } catch {
    // ENOSPC: full. Smaller writes take the last partial block.
    try {
      for (;;) written += await f.write(chunk.subarray(0, 512));
    } catch { /* full to the byte */ }
  } finally {
    f.close();
  }
  return written;
}

/** Sends request number `n` (its rows' first feature is `n * 1000 + i`); the reply's status and body. */
async function infer(tern: TernProcess, n: number, rows = 200): Promise<{ status: number; body: string }> {
  const batch = Array.from({ length: rows }, (_, i) => [n * 1000 + i, ...ref.inputs[i % 1000].slice(1)]);
  const res = await fetch(`${tern.url}/infer`, {
    method: "POST",
    headers: { "content-type": JSON_TYPE },
    body: recordsBody(batch),
  });
  return { status: res.status, body: await res.text() };
}

Deno.test({
  name: "disk full: inferences are refused with a 503 naming it, health and reads go on, recovery when space returns",
  ignore: SKIP !== undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tern-e2e-diskfull-" });
    const vol = `${dir}/vol`;
    await Deno.mkdir(vol);
    await run("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", vol]);
    let tern: TernProcess | undefined;
    try {
      const env = { PERSISTENT_VOLUME_DIR: `${vol}/persist`, LOG_DURABILITY: "durable" };
      const served = await startTern({ env });
      tern = served;
      const acked: number[] = [];
      let n = 0;
      for (; n < 5; n++) {
        const r = await infer(served, n);
        assertEquals(r.status, 200, r.body);
        acked.push(n);
      }
      const filled = await fill(`${vol}/filler`);

      // Under load until the log cannot grow: a refusal, never an acknowledged row that is not written.
      let refusal: { status: number; body: string } | undefined;
      for (let tries = 0; tries < 2000 && !refusal; tries++, n++) {
        const r = await infer(served, n);
        if (r.status === 200) acked.push(n);
        else refusal = r;
      }
      assert(refusal, "the log never filled the disk");
      assertEquals(refusal.status, 503, refusal.body);
      const error = JSON.parse(refusal.body);
      assertEquals(error.code, "unavailable");
      assertMatch(error.error, /full/i);
      for (const path of ["/health", "/health/ready", "/models", "/logs/status"]) {
        const res = await fetch(`${served.url}${path}`);
        await res.body?.cancel();
        assertEquals(res.status, 200, `${path} while the disk is full`);
      }
      const read = await fetch(`${served.url}/logs`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE },
        body: "{}",
      });
      assertEquals(read.status, 200, "the log reads while the disk is full");
      await read.body?.cancel();

      // Space returns: acknowledged again, no restart.
      await Deno.remove(`${vol}/filler`);
      let recovered = false;
      for (let tries = 0; tries < 200 && !recovered; tries++, n++) {
        const r = await infer(served, n);
        if (r.status === 200) {
          acked.push(n);
          recovered = true;
        } else await new Promise((r) => setTimeout(r, 50));
      }
      assert(recovered, "inferences never succeeded again once space returned");
      for (let i = 0; i < 5; i++, n++) {
        const r = await infer(served, n);
        assertEquals(r.status, 200, r.body);
        acked.push(n);
      }
      assertEquals(await served.stop(), 0, served.output());
      tern = undefined;

      const db = createClient({ url: `file:${vol}/persist/inference-log.db` });
      try {
        assertEquals((await db.execute("PRAGMA integrity_check")).rows[0][0], "ok");
      } finally {
        db.close();
      }
      const again = await startTern({ env });
      tern = again;
      const rows: { in: { tensor: number[] } }[] = await (await fetch(`${again.url}/logs`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE },
        body: "{}",
      })).json();
      const logged = new Set(rows.map((r) => Math.floor(r.in.tensor[0] / 1000)));
      const lost = acked.filter((k) => !logged.has(k));
      recordFigures("disk_full", {
        filesystem_bytes: 6 * 2 ** 20,
        filler_bytes: filled,
        acknowledged_requests: acked.length,
        refused_status: refusal.status,
        refused_code: error.code,
        refused_error: error.error,
        requests_lost: lost.length,
        integrity: "ok",
      });
      assertEquals(lost, [], "every acknowledged request's rows are in the log");
    } finally {
      await tern?.stop();
      await run("umount", [vol]).catch(() => run("umount", ["-l", vol]));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
