/**
 * @module
 * scripts/system-packages.txt is the one list of Debian packages the suite
 * installs: every Python module the fixture scripts import and every program
 * the tests spawn must be on it, and its checks must pass after
 * `deno task test` installed it (a fresh machine once died here with
 * `No module named 'onnx'`).
 */
import { assert, assertEquals } from "../support/assert.ts";

const ROOT = new URL("../../", import.meta.url);
const list = Deno.readTextFileSync(new URL("scripts/system-packages.txt", ROOT)).split("\n")
  .filter((l) => l.trim() && !l.startsWith("#")).map((l) => l.trim().split(/\s+/));
const checks = new Set(list.map(([, check]) => check));

const STDLIB = new Set(["sys", "os", "json", "math", "struct", "io", "pathlib", "argparse", "hashlib", "random"]);

Deno.test("every module the Python scripts import is a listed python: check", () => {
  for (const entry of Deno.readDirSync(new URL("scripts/", ROOT))) {
    if (!entry.name.endsWith(".py")) continue;
    const text = Deno.readTextFileSync(new URL(`scripts/${entry.name}`, ROOT));
    for (const [, mod] of text.matchAll(/^(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)/gm)) {
      // train_demo_model.py (deno task train-demo-model) is run by maintainers, not by the suite.
      if (STDLIB.has(mod) || entry.name === "train_demo_model.py") continue;
      assert(checks.has(`python:${mod}`), `scripts/${entry.name} imports ${mod}: list its package`);
    }
  }
});

Deno.test("every program the tests spawn by name is a listed command: or file: check", () => {
  const spawned = new Set<string>();
  const walk = (dir: URL) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) walk(new URL(`${e.name}/`, dir));
      else if (e.name.endsWith(".ts")) {
        const text = Deno.readTextFileSync(new URL(e.name, dir));
        for (const [, cmd] of text.matchAll(/new Deno\.Command\("([^"]+)"/g)) spawned.add(cmd);
      }
    }
  };
  walk(new URL("tests/", ROOT));
  // The shell, Deno itself, and what Debian's Essential packages util-linux and mount bring (on every Debian system).
  const ours = new Set(["sh", "bash", "/usr/bin/python3", Deno.execPath(), "su", "unshare", "mount", "umount"]);
  for (const cmd of spawned) {
    if (ours.has(cmd)) continue;
    assert(
      checks.has(cmd.startsWith("/") ? `file:${cmd}` : `command:${cmd}`),
      `tests spawn ${cmd}: list its package in scripts/system-packages.txt`,
    );
  }
});

Deno.test("after install, every listed package passes its check (install_system_packages.sh --check)", async () => {
  const out = await new Deno.Command("bash", {
    args: [new URL("scripts/install_system_packages.sh", ROOT).pathname, "--check"],
    stdout: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(out.stdout), "");
  assertEquals(out.code, 0);
});
