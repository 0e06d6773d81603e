/**
 * @module
 * Which commit this tern was built from, for `tern --version`: the binary carries build/build_info.json (written by
 * scripts/compile.sh); from source it is read from the checkout's .git.
 */

/** The commit (12 hex digits, `-dirty` when built with uncommitted changes), or a word saying why it is unknown. */
export function buildCommit(): string {
  if (Deno.build.standalone) {
    try {
      return JSON.parse(Deno.readTextFileSync(new URL("../build/build_info.json", import.meta.url))).commit;
    } catch {
      return "unknown";
    }
  }
  return `${gitCommit() ?? "unknown"}, from source`;
}

function gitCommit(): string | undefined {
  const git = new URL("../.git/", import.meta.url);
  try {
    const head = Deno.readTextFileSync(new URL("HEAD", git)).trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 12);
    const ref = head.slice(5);
    try {
      return Deno.readTextFileSync(new URL(ref, git)).trim().slice(0, 12);
    } catch {
      const line = Deno.readTextFileSync(new URL("packed-refs", git)).split("\n").find((l) => l.endsWith(` ${ref}`));
      return line?.slice(0, 12);
    }
  } catch {
    return undefined;
  }
}
