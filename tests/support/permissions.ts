/**
 * @module
 * The permission set of deno.json's `tern` task (shared by `deno task start`, scripts/compile.sh and the tests) as
 * flags, and as the tests run the source with it: from a temporary folder rather than the repository's root, so the
 * source tree, which `deno task tern` reads and loads native addons from as `.` and `./node_modules`, is added by its
 * absolute path.
 */

const ROOT = new URL("../../", import.meta.url);

/** The `--allow-*` flags of deno.json's `tern` task, as written there. */
export function permissionFlags(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const task: string[] = config.tasks.tern.split(/\s+/);
  return task.slice(2, -1);
}

/** The entries of one flag (`--allow-read` → its paths); undefined when absent, [] when unrestricted. */
export function flagEntries(flags: readonly string[], name: string): string[] | undefined {
  const flag = flags.find((f) => f === name || f.startsWith(`${name}=`));
  if (flag === undefined) return undefined;
  return flag === name ? [] : flag.slice(name.length + 1).split(",");
}

/** The flags for a source run from another folder: the repository root added to read, its node_modules to ffi. */
export function sourceRunFlags(root: string): string[] {
  return permissionFlags().map((flag) => {
    if (flag.startsWith("--allow-read=")) return `${flag},${root}`;
    if (flag.startsWith("--allow-ffi=")) return `${flag},${root}/node_modules`;
    return flag;
  });
}
