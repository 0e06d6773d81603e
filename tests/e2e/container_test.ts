/**
 * @module
 * dist/tern's scratch image in a real container runtime (podman with runc here; docker where installed): built by
 * scripts/image.sh from the binary under test, run in the seed's `docker run` form (environment variables,
 * `-v ./data:/persist`, port 8080), restarted with its log kept, checked by its HEALTHCHECK (`tern health`),
 * stopped with exit code 0; on a volume the runtime creates (tern's, as the image's /persist is); and brought up by
 * compose.yaml with podman-compose (or docker compose). Runs with TERN_BIN only; without a container runtime it says
 * so and skips.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { findContainerRuntime, giveToImageUser, run, waitReady } from "../support/container.ts";
import { freePort } from "../support/hub_process.ts";
import { loadReference, maxRelativeError, recordsBody } from "../support/reference.ts";

const BIN = Deno.env.get("TERN_BIN");
const ROOT = new URL("../../", import.meta.url).pathname;
const IMAGE = "localhost/tern:e2e";
const runtime = BIN === undefined ? undefined : findContainerRuntime();
if (BIN !== undefined && runtime === undefined) {
  console.log("container_test: no container runtime (podman or docker) is installed: skipping the image tests");
}
const ref = loadReference();

let built: Promise<void> | undefined;
/** Builds the image once, from the binary under test. */
function buildImage(): Promise<void> {
  return built ??= run(["bash", "scripts/image.sh", IMAGE], {
    cwd: ROOT,
    env: { ...runtime!.env, TERN_BIN: BIN! },
    timeoutMs: 300_000,
  }).then(({ code, out }) => assertEquals(code, 0, out));
}

async function infer(base: string): Promise<number> {
  const res = await fetch(`${base}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: recordsBody(ref.inputs.slice(0, 1)),
  });
  assertEquals(res.status, 200);
  const value = (await res.json())[0].outputs[0].Float.data[0];
  assert(maxRelativeError([value], ref.predictions.slice(0, 1)) <= 1e-4);
  return value;
}

async function loggedRows(base: string): Promise<number> {
  const res = await fetch(`${base}/logs`, {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: "{}",
  });
  assertEquals(res.status, 200);
  return (await res.json()).length;
}

Deno.test({
  name:
    "the image in the seed's docker run form serves /infer; a restart keeps the log; tern health is its HEALTHCHECK; docker stop exits 0",
  ignore: runtime === undefined,
  fn: async () => {
    await buildImage();
    const { engine, env } = runtime!;
    const dir = await Deno.makeTempDir({ prefix: "tern-container-" });
    const name = `tern-e2e-${crypto.randomUUID().slice(0, 8)}`;
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    try {
      await Deno.mkdir(`${dir}/data`);
      await giveToImageUser(runtime!, `${dir}/data`);
      const started = await run([
        engine,
        "run",
        "-d",
        "--name",
        name,
        "-e",
        "CONFIG_CPUS=1.0",
        "-e",
        "OCI_REGISTRY=",
        "-e",
        "EDGE_BUNDLE=",
        "-v",
        "./data:/persist",
        "-p",
        `${port}:8080`,
        IMAGE,
      ], { cwd: dir, env });
      assertEquals(started.code, 0, started.out);
      await waitReady(`${base}/health/ready`);
      await infer(base);
      assertEquals(await loggedRows(base), 1);
      const health = await run([engine, "healthcheck", "run", name], { env });
      assertEquals(health.code, 0, `HEALTHCHECK (tern health) failed: ${health.out}`);

      const restarted = await run([engine, "restart", name], { env });
      assertEquals(restarted.code, 0, restarted.out);
      await waitReady(`${base}/health/ready`);
      assertEquals(await loggedRows(base), 1, "the log did not survive the restart");
      await infer(base);
      assertEquals(await loggedRows(base), 2);

      const stopped = await run([engine, "stop", name], { env });
      assertEquals(stopped.code, 0, stopped.out);
      const exit = await run([engine, "inspect", "--format", "{{.State.ExitCode}}", name], { env });
      assertEquals(exit.out.trim(), "0");
      assertMatch((await run([engine, "logs", name], { env })).out, /SIGTERM: finishing in-flight requests/);
      assert(Deno.statSync(`${dir}/data/inference-log.db`).isFile);
    } finally {
      await run([engine, "rm", "-f", name], { env });
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "a named volume on /persist, or none (the image's VOLUME), is writable by tern; a read-only one stops it with exit 2 naming PERSISTENT_VOLUME_DIR",
  ignore: runtime === undefined,
  fn: async () => {
    await buildImage();
    const { engine, env } = runtime!;
    const id = crypto.randomUUID().slice(0, 8);
    const volume = `tern-e2e-${id}`;
    const names: string[] = [];
    try {
      for (const mount of [["-v", `${volume}:/persist`], []]) {
        const name = `tern-e2e-${id}-${names.length}`;
        names.push(name);
        const port = freePort();
        const started = await run([engine, "run", "-d", "--name", name, ...mount, "-p", `${port}:8080`, IMAGE], {
          env,
        });
        assertEquals(started.code, 0, started.out);
        await waitReady(`http://127.0.0.1:${port}/health/ready`).catch(async (err) => {
          throw new Error(`${err.message}\n${(await run([engine, "logs", name], { env })).out}`);
        });
        await infer(`http://127.0.0.1:${port}`);
        assertEquals(await loggedRows(`http://127.0.0.1:${port}`), 1);
        assertEquals((await run([engine, "stop", name], { env })).code, 0);
      }
      const readOnly = await run([engine, "run", "--rm", "-v", `${volume}:/persist:ro`, IMAGE], { env });
      assertEquals(readOnly.code, 2, readOnly.out);
      assertMatch(
        readOnly.out,
        /PERSISTENT_VOLUME_DIR='\/persist' is a folder this process \(uid 10001\) cannot write/,
      );
    } finally {
      for (const name of names) await run([engine, "rm", "-f", "-v", name], { env });
      await run([engine, "volume", "rm", "-f", volume], { env });
    }
  },
});

Deno.test({
  name: "compose.yaml brings the engine up (port, /persist volume, 1536m memory limit) and down",
  ignore: runtime?.compose === undefined,
  fn: async () => {
    await buildImage();
    const { engine, env } = runtime!;
    const compose = runtime!.compose!;
    const dir = await Deno.makeTempDir({ prefix: "tern-compose-" });
    const project = `tern-e2e-${crypto.randomUUID().slice(0, 8)}`;
    const port = freePort();
    const composeEnv = {
      ...env,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      TERN_IMAGE: IMAGE,
      TERN_PORT: `${port}`,
    };
    try {
      await Deno.copyFile(`${ROOT}compose.yaml`, `${dir}/compose.yaml`);
      await Deno.mkdir(`${dir}/data`);
      await giveToImageUser(runtime!, `${dir}/data`);
      const up = await run([...compose, "-p", project, "up", "-d"], { cwd: dir, env: composeEnv });
      assertEquals(up.code, 0, up.out);
      await waitReady(`http://127.0.0.1:${port}/health/ready`);
      await infer(`http://127.0.0.1:${port}`);
      const ids = (await run([engine, "ps", "-q", "--filter", `label=com.docker.compose.project=${project}`], { env }))
        .out.trim().split("\n").filter((id) => id !== "");
      assertEquals(ids.length, 1);
      const memory = await run([engine, "inspect", "--format", "{{.HostConfig.Memory}}", ids[0]], { env });
      assertEquals(memory.out.trim(), String(1536 * 2 ** 20));
      assert(Deno.statSync(`${dir}/data/inference-log.db`).isFile, "the log is not in ./data");
    } finally {
      const down = await run([...compose, "-p", project, "down"], { cwd: dir, env: composeEnv });
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      assertEquals(down.code, 0, down.out);
    }
  },
});
