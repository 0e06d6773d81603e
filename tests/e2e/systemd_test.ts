/**
 * @module
 * The systemd service as scripts/install.sh lays it out (under a staging root: this machine runs no systemd):
 * `systemd-analyze verify` accepts the unit with the binary under test (a stub from source) without a warning,
 * its offline security review rates it OK, and a second install keeps the settings in /etc/tern/tern.env.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { requireSystemPackage } from "../support/system_packages.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = Deno.env.get("TERN_BIN");

async function sh(cmd: string[], cwd = ROOT): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder();
  return { code: out.code, out: text.decode(out.stdout) + text.decode(out.stderr) };
}

/** The binary under test, or a stub from source (verify only needs ExecStart to be an executable). */
async function binary(root: string): Promise<string> {
  if (BIN !== undefined) return `${ROOT}${BIN}`;
  const stub = `${root}/stub-tern`;
  await Deno.writeTextFile(stub, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  return stub;
}

/** A staging root holding systemd's own units (the targets tern.service names) and the files install.sh lays out. */
async function installed(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await Deno.makeTempDir({ prefix: "tern-systemd-" });
  await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
  assertEquals((await sh(["cp", "-r", "/usr/lib/systemd/system", `${root}/usr/lib/systemd/`])).code, 0);
  const bin = await binary(root);
  const result = await sh(["bash", "scripts/install.sh", "--root", root, bin]);
  assertEquals(result.code, 0, result.out);
  return { root, cleanup: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("systemd-analyze verify accepts tern.service as install.sh installs it, and rates its exposure OK", async () => {
  await requireSystemPackage("systemd");
  const { root, cleanup } = await installed();
  try {
    assertEquals((Deno.statSync(`${root}/usr/local/bin/tern`).mode ?? 0) & 0o777, 0o755);
    assertEquals((Deno.statSync(`${root}/etc/tern/tern.env`).mode ?? 0) & 0o777, 0o600);
    const verify = await sh(["systemd-analyze", `--root=${root}`, "verify", "tern.service"]);
    assertEquals(verify, { code: 0, out: "" }, "systemd-analyze verify complained");
    const security = await sh(["systemd-analyze", `--root=${root}`, "security", "--offline=true", "tern.service"]);
    assertEquals(security.code, 0, security.out);
    const level = security.out.match(/Overall exposure level for tern\.service: ([\d.]+) (\w+)/);
    assert(level, security.out);
    assertEquals(level[2], "OK", security.out);
    const unit = Deno.readTextFileSync(`${root}/etc/systemd/system/tern.service`);
    for (const setting of ["DynamicUser=yes", "StateDirectory=tern", "ProtectSystem=strict", "NoNewPrivileges=yes"]) {
      assertMatch(unit, new RegExp(`^${setting}$`, "m"));
    }
    assertMatch(unit, /^Restart=on-failure$/m);
    assertMatch(unit, /^EnvironmentFile=-\/etc\/tern\/tern\.env$/m);
    // The state folder is a flag, which wins over the environment (tests/config_test.ts), so tern.env cannot move it.
    assertMatch(unit, /^ExecStart=\/usr\/local\/bin\/tern --persistent-volume-dir=\/var\/lib\/tern$/m);
  } finally {
    await cleanup();
  }
});

Deno.test("installing again replaces the binary and the unit but keeps /etc/tern/tern.env", async () => {
  const { root, cleanup } = await installed();
  try {
    Deno.writeTextFileSync(`${root}/etc/tern/tern.env`, "PIPELINE_URL=registry.example.com/p/m:v1\n");
    const again = await sh(["bash", "scripts/install.sh", "--root", root, await binary(root)]);
    assertEquals(again.code, 0, again.out);
    assertEquals(Deno.readTextFileSync(`${root}/etc/tern/tern.env`), "PIPELINE_URL=registry.example.com/p/m:v1\n");
  } finally {
    await cleanup();
  }
});

Deno.test("install.sh on the machine itself refuses a binary built for another architecture, before installing anything", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-install-arch-" });
  try {
    // An ELF header for the other architecture (e_machine at byte 18: 62 x86-64, 183 AArch64).
    const other = Deno.build.arch === "x86_64" ? 183 : 62;
    const header = new Uint8Array(64);
    header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    header[18] = other;
    await Deno.writeFile(`${dir}/tern`, header, { mode: 0o755 });
    const result = await sh(["bash", "scripts/install.sh", `${dir}/tern`]);
    assertEquals(result.code, 1, result.out);
    assertMatch(result.out, /is not built for this machine \((x86_64|aarch64)\): use dist\/tern on x86_64/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
