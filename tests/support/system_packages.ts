/**
 * @module
 * The Debian packages tests rely on, read from scripts/system-packages.txt
 * (the one list `deno task test` installs). A test that needs one calls
 * requireSystemPackage first, so a machine without it fails with one line
 * naming the package instead of a traceback from deep inside a tool.
 */

const LIST = new URL("../../scripts/system-packages.txt", import.meta.url);

interface Entry {
  check: string;
  usedBy: string;
}

let entries: Map<string, Entry> | undefined;
const satisfied = new Set<string>();

function readList(): Map<string, Entry> {
  entries ??= new Map(
    Deno.readTextFileSync(LIST).split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"))
      .map((line) => {
        const [pkg, check, ...usedBy] = line.trim().split(/\s+/);
        return [pkg, { check, usedBy: usedBy.join(" ") }];
      }),
  );
  return entries;
}

async function present(check: string): Promise<boolean> {
  const [kind, target] = [check.slice(0, check.indexOf(":")), check.slice(check.indexOf(":") + 1)];
  if (kind === "file") return await Deno.stat(target).then(() => true, () => false);
  const [cmd, args] = kind === "python"
    ? ["/usr/bin/python3", ["-c", `import ${target}`]]
    : ["sh", ["-c", `command -v ${target}`]];
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}

/** Throws a one-line error naming `pkg` unless it is installed. */
export async function requireSystemPackage(pkg: string): Promise<void> {
  if (satisfied.has(pkg)) return;
  const entry = readList().get(pkg);
  if (!entry) throw new Error(`${pkg} is not in scripts/system-packages.txt: add it there`);
  if (!await present(entry.check)) {
    throw new Error(
      `missing system package ${pkg} (${entry.usedBy}): run bash scripts/install_system_packages.sh`,
    );
  }
  satisfied.add(pkg);
}
