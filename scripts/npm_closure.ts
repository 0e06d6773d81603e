/**
 * @module
 * Prints the node_modules/.deno folders of the npm packages that the given entry modules reach (with their
 * dependencies), one a line: scripts/compile.sh leaves every other installed package (build and test tools such as
 * drizzle-kit or a test-only browser driver) out of the binary, since deno compile embeds all of node_modules.
 * `--skip=PARENT>CHILD` drops a declared dependency that PARENT never loads, with what only it brings in.
 *   deno run --allow-read --allow-run --allow-env scripts/npm_closure.ts [--skip=PARENT>CHILD…] src/main.ts …
 */

interface Info {
  modules: { npmPackage?: string }[];
  npmPackages: Record<string, { name: string; version: string; dependencies?: string[] }>;
}

const skip = new Set(Deno.args.filter((a) => a.startsWith("--skip=")).map((a) => a.slice("--skip=".length)));
const roots = Deno.args.filter((a) => !a.startsWith("--skip="));
const reached = new Set<string>();
let packages: Info["npmPackages"] = {};
for (const root of roots) {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", root], stdout: "piped" }).output();
  if (!out.success) throw new Error(`deno info ${root} failed`);
  const info: Info = JSON.parse(new TextDecoder().decode(out.stdout));
  packages = { ...packages, ...info.npmPackages };
  const stack = info.modules.flatMap((m) => m.npmPackage ? [m.npmPackage] : []);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    const parent = info.npmPackages[id]?.name;
    stack.push(
      ...(info.npmPackages[id]?.dependencies ?? []).filter((dep) =>
        !skip.has(`${parent}>${info.npmPackages[dep]?.name}`)
      ),
    );
  }
}
const folders = new Set([...reached].map((id) => `${packages[id].name.replace("/", "+")}@${packages[id].version}`));
console.log([...folders].sort().join("\n"));
