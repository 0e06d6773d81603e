/**
 * @module
 * The figures the guarantee suites publish (docs/guarantees.md): each suite
 * records its counts under a name, into TERN_FIGURES_DIR when that is set
 * (scripts/guarantees.ts sets it), and picks its size: the short version in
 * `deno task test`, the long one with TERN_GUARANTEES_LONG=1.
 */

/** True in the long run (`deno task guarantees`). */
export const LONG = Deno.env.get("TERN_GUARANTEES_LONG") === "1";

/** `short` in the test suite, `long` in the long run. */
export function sized(short: number, long: number): number {
  return LONG ? long : short;
}

/** Writes `figures` as `<name>.json` into TERN_FIGURES_DIR, when set. */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const dir = Deno.env.get("TERN_FIGURES_DIR");
  if (!dir) return;
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/${name}.json`, JSON.stringify({ ...figures, long: LONG }, null, 2));
}

/** Resident memory (VmRSS) of process `pid` in bytes, from /proc. */
export function residentBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Open file descriptors of process `pid`, from /proc. */
export function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}
