/**
 * @module
 * A real container runtime for the image tests: podman (with runc) or docker, whichever is installed
 * (scripts/system-packages.txt installs podman, runc and podman-compose). Podman gets a containers.conf of the
 * test's own: runc, and rlimits this machine's runc can set (docs/test-peers.md).
 */

/** How to run the container engine and its compose tool. */
export interface ContainerRuntime {
  engine: string;
  compose?: string[];
  env: Record<string, string>;
}

function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return undefined;
}

/** The runtime found, or undefined (the test then says so and skips). */
export function findContainerRuntime(): ContainerRuntime | undefined {
  const podman = which("podman");
  if (podman) {
    const conf = Deno.makeTempFileSync({ prefix: "tern-containers-", suffix: ".conf" });
    Deno.writeTextFileSync(
      conf,
      '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n',
    );
    const compose = which("podman-compose");
    return { engine: podman, compose: compose ? [compose] : undefined, env: { CONTAINERS_CONF: conf } };
  }
  const docker = which("docker");
  if (docker) {
    const compose = which("docker-compose");
    return { engine: docker, compose: compose ? [compose] : [docker, "compose"], env: {} };
  }
  return undefined;
}

/** Runs a command to completion (killed after `timeoutMs`); returns exit code and output. */
export async function run(
  cmd: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: options.cwd,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  try {
    const result = await child.output();
    const text = new TextDecoder();
    return { code: result.code, out: text.decode(result.stdout) + text.decode(result.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `url` answers 200 (a container starting); throws after `timeoutMs`. */
export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(url).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** Makes `dir` writable by the image's user (10001), as the README tells users to. */
export async function giveToImageUser(runtime: ContainerRuntime, dir: string): Promise<void> {
  if (Deno.uid() === 0) {
    Deno.chownSync(dir, 10001, 10001);
  } else if (runtime.engine.endsWith("podman")) {
    await run([runtime.engine, "unshare", "chown", "10001:10001", dir], { env: runtime.env });
  }
}
