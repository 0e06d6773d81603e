/**
 * Resident memory after 50 swaps stays within SWAP_MEMORY_BOUND of memory
 * after 5 (README, "In-line updates"), with every model's sessions on the
 * serving thread (INFERENCE_BACKEND=auto) and with every model in a native
 * worker thread of its own; and the measurement sees a leak: with releases
 * skipped, the same run passes the bound many times over. Each run is a
 * process of its own (tests/support/swap_memory_child.ts), so the figures are
 * the swapping process's alone. They are printed.
 */
import { assert } from "../support/assert.ts";

/** The documented bound: RSS after 50 swaps ≤ RSS after 5 + this. */
const SWAP_MEMORY_BOUND = 96 * 2 ** 20;
const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

async function swaps(mode: "auto" | "worker", leak = false): Promise<{ rssAfter5: number; rssAfter50: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--expose-gc",
      new URL("../support/swap_memory_child.ts", import.meta.url).pathname,
      mode,
      "50",
      ...(leak ? ["leak"] : []),
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  assert(out.success, text.decode(out.stderr));
  const figures = JSON.parse(text.decode(out.stdout).trim().split("\n").pop()!);
  console.log(
    `${mode}${leak ? " (releases skipped)" : ""}: RSS after 5 swaps ${MiB(figures.rssAfter5)}, after 50 ${
      MiB(figures.rssAfter50)
    } (+${MiB(figures.rssAfter50 - figures.rssAfter5)})`,
  );
  return figures;
}

Deno.test("resident memory after 50 swaps is within 96 MiB of that after 5; a leak of every release is not", async () => {
  for (const mode of ["auto", "worker"] as const) {
    const { rssAfter5, rssAfter50 } = await swaps(mode);
    assert(rssAfter50 - rssAfter5 <= SWAP_MEMORY_BOUND, `${mode}: +${MiB(rssAfter50 - rssAfter5)} after 45 more swaps`);
  }
  const leaked = await swaps("worker", true);
  assert(leaked.rssAfter50 - leaked.rssAfter5 > 2 * SWAP_MEMORY_BOUND, "the measurement did not see a leak");
});
