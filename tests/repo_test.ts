/**
 * @module
 * The repository is the product: its code and docs rely on nothing outside it
 * (design notes and peer notes the code leans on are in docs/).
 */
import { assertEquals } from "./support/assert.ts";

const ROOT = new URL("../", import.meta.url);

function files(dir: URL, out: URL[] = []): URL[] {
  for (const e of Deno.readDirSync(dir)) {
    const url = new URL(e.isDirectory ? `${e.name}/` : e.name, dir);
    if (e.isDirectory) files(url, out);
    else if (/\.(ts|md|sh|py)$/.test(e.name)) out.push(url);
  }
  return out;
}

Deno.test("no source, script, test or doc points at DESIGN.md or PEERS.md, which are not in the repo", () => {
  const offenders = [
    ...["src/", "scripts/", "tests/", "docs/", "bench/"].flatMap((d) => files(new URL(d, ROOT))),
    new URL("README.md", ROOT),
  ]
    .filter((f) => !f.pathname.endsWith("/tests/repo_test.ts"))
    .filter((f) => /\b(DESIGN|PEERS)\.md\b/.test(Deno.readTextFileSync(f)))
    .map((f) => f.pathname.slice(ROOT.pathname.length));
  assertEquals(offenders, []);
});

Deno.test("no stray scripts at the top level (prof.ts was one): only drizzle-kit's configs live there", () => {
  const top = [...Deno.readDirSync(ROOT)].filter((e) => e.isFile && e.name.endsWith(".ts")).map((e) => e.name);
  assertEquals(top.filter((name) => !/^drizzle(\.[a-z0-9-]+)?\.config\.ts$/.test(name)), []);
});

Deno.test("a first install prints no 'Ignored build scripts' warning: the skipped scripts are denied on purpose", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-install-" });
  try {
    for (const f of ["deno.json", "deno.lock"]) await Deno.copyFile(new URL(f, ROOT), `${dir}/${f}`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["install"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, text);
    assertEquals(/Ignored build scripts|approve-scripts/.test(text), false, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
