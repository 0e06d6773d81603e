/**
 * @module
 * What `tern serve` evaluates before it can be ready. Without a code cache (the compiled binary never has one) each
 * module costs start-up time, so the packages a serving edge may never use load when first needed: apache-arrow
 * with the first Arrow request, onnxruntime-web with the first WASM session, jose with an EDGE_BUNDLE, the hub's
 * PostgreSQL driver never, and @libsql/client (with drizzle's migrator) in the log's worker threads only.
 */
import { assertEquals } from "./support/assert.ts";

const ROOT = new URL("../", import.meta.url);

interface InfoModule {
  specifier: string;
  dependencies?: { isDynamic?: boolean; code?: { specifier?: string } }[];
}

/** The npm packages `entry` reaches through static (not dynamic, not type-only) imports, with one importer each. */
async function staticNpmPackages(entry: string): Promise<Map<string, string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { roots: string[]; modules: InfoModule[] };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [...info.roots];
  while (pending.length > 0) {
    const specifier = pending.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of modules.get(specifier)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (dep.isDynamic || !target) continue;
      if (target.startsWith("npm:")) {
        const name = target.replace(/^npm:\/?/, "").match(/^(@[^/]+\/[^@/]+|[^@/]+)/)![1];
        if (!packages.has(name)) packages.set(name, specifier.slice(ROOT.href.length));
      } else pending.push(target);
    }
  }
  return packages;
}

Deno.test("tern serve's static imports reach none of the packages it loads when first needed", async () => {
  const packages = await staticNpmPackages("src/main.ts");
  const serve = await staticNpmPackages("src/serve.ts");
  for (const [name, importer] of serve) packages.set(name, importer);
  const late = ["apache-arrow", "onnxruntime-web", "jose", "postgres", "@libsql/client"];
  assertEquals(late.filter((name) => packages.has(name)).map((name) => `${name} (from ${packages.get(name)})`), []);
  // The packages it does need, so that a renamed import cannot make the check above pass vacuously.
  for (const needed of ["hono", "libsql", "drizzle-orm"]) {
    assertEquals(packages.has(needed), true, `${needed} not found among ${[...packages.keys()].join(", ")}`);
  }
});
