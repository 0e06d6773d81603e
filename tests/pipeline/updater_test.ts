/**
 * The updater's decisions, with a scripted source and backend: a tag that
 * names a new manifest is pulled and swapped in; one that does not costs one
 * manifest request; a broken version leaves the old one serving and is not
 * tried again until the tag moves; a digest is never checked; Ops' follow()
 * switches URLs; a dead worker thread is reloaded by the same path.
 */
import { createApp } from "../../src/server/app.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { modelStep, type PipelineDefinition } from "../../src/pipeline/spec.ts";
import { PipelineUpdater } from "../../src/pipeline/updater.ts";
import { RegistryError } from "../../src/registry/errors.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { FakeBackend, type Script } from "../support/fake_backend.ts";

const TAG = "registry.example/pipelines/prices:live";

/** A registry as the updater sees it: what each URL names now, and each manifest's pipeline. */
class FakeRegistry {
  readonly names = new Map<string, string>();
  readonly manifests = new Map<string, PipelineDefinition | Error>();
  digestCalls = 0;
  fetches = 0;
  pinnedDigest = (url: string) => url.includes("@sha256:") ? url.split("@")[1] : undefined;
  digest = (url: string) => {
    this.digestCalls++;
    const d = this.names.get(url);
    return d ? Promise.resolve(d) : Promise.reject(new Error(`${url} not found`));
  };
  fetch = (url: string | undefined) => {
    this.fetches++;
    const digest = this.names.get(url ?? "") ?? url!.split("@")[1];
    const m = this.manifests.get(digest);
    if (!m) return Promise.reject(new Error(`${url}: no manifest`));
    if (m instanceof Error) return Promise.reject(m);
    return Promise.resolve({ ...m, source: { reference: url!, digest } });
  };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert(done(), "the condition never held");
}

function setUp(reloadBackoffMs?: number, now?: () => number) {
  const backend = new FakeBackend();
  const pipelines = new PipelineManager(backend);
  const registry = new FakeRegistry();
  const lines: string[] = [];
  const updater = new PipelineUpdater({
    pipelines,
    source: registry,
    intervalMs: 0,
    reloadBackoffMs,
    now,
    info: (l) => lines.push(l),
    error: (l) => lines.push(`error: ${l}`),
  });
  pipelines.updater = updater;
  pipelines.onSessionFailure = (model) => void updater.reload(`Model ${model}'s worker thread stopped`);
  const version = async (digest: string, n: number, script: Script = { add: n }) => {
    const v = `${n}${n}${n}${n}${n}${n}${n}${n}-0000-4000-8000-000000000000`;
    registry.manifests.set(digest, {
      name: "prices",
      version: v,
      steps: [modelStep(await backend.model("m", `v${n}`, script))],
    });
    return v;
  };
  const served = async () => {
    const res = await createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20 }).request("/infer", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ tensor: [0] }]),
    });
    const body = await res.json();
    return res.status === 200 ? body[0].outputs[0].Float.data[0] : `${res.status} ${body.error}`;
  };
  const ready = async () => {
    const res = await createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20 }).request("/health/ready");
    return `${res.status} ${(await res.json()).error ?? ""}`.trim();
  };
  return { backend, pipelines, registry, updater, lines, version, served, ready };
}

Deno.test("a tag naming a new manifest is pulled and swapped in; an unchanged one costs one manifest request", async () => {
  const { pipelines, registry, updater, version, served } = setUp();
  await version("sha256:1", 1);
  await version("sha256:2", 2);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  updater.start(TAG, "sha256:1");

  await updater.check();
  assertEquals([registry.digestCalls, registry.fetches, await served()], [1, 1, 1]);
  registry.names.set(TAG, "sha256:2");
  await updater.check();
  assertEquals([registry.digestCalls, registry.fetches, await served()], [2, 2, 2]);
  await updater.stop();
  await pipelines.close();
});

Deno.test("a broken version leaves the old one serving, reported, and is not tried again until the tag moves", async () => {
  const { pipelines, registry, updater, lines, version, served } = setUp();
  await version("sha256:1", 1);
  await version("sha256:bad", 9, { add: 9, refusesLoad: "Protobuf parsing failed" });
  await version("sha256:3", 3);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  updater.start(TAG, "sha256:1");

  registry.names.set(TAG, "sha256:bad");
  await updater.check();
  assertEquals(await served(), 1);
  assertEquals(pipelines.status, "Running");
  assertMatch(pipelines.updateFailure!.error, /Protobuf parsing failed/);
  assertEquals(pipelines.updateFailure!.reference, TAG);
  assertMatch(
    lines.join("\n"),
    /error: Update to .*:live \(prices version 99999999-.*\) failed to load: model m: Protobuf parsing failed; still serving prices version 11111111-/,
  );
  const fetches = registry.fetches;
  await updater.check();
  await updater.check();
  assertEquals(registry.fetches, fetches, "the broken version was pulled again");

  // A registry that cannot be reached: reported once, the old version serves on.
  const names = new Map(registry.names);
  registry.names.clear();
  await updater.check();
  await updater.check();
  assertEquals(lines.filter((l) => l.startsWith("error: Cannot check")).length, 1);
  registry.names.set(TAG, names.get(TAG)!);

  registry.names.set(TAG, "sha256:3");
  await updater.check();
  assertEquals(await served(), 3);
  assertEquals(pipelines.updateFailure, undefined);
  await updater.stop();
  await pipelines.close();
});

Deno.test("a digest is never checked; follow(url) from Ops switches to another pipeline at once", async () => {
  const { pipelines, registry, updater, version, served } = setUp();
  await version("sha256:1", 1);
  await version("sha256:2", 2);
  const pinned = "registry.example/pipelines/prices@sha256:1";
  await pipelines.load(await registry.fetch(pinned));
  updater.start(pinned, "sha256:1");
  await updater.check();
  assertEquals(registry.digestCalls, 0);

  registry.names.set(TAG, "sha256:2");
  await updater.follow(TAG);
  assertEquals([updater.url, await served()], [TAG, 2]);
  assertEquals(pipelines.updater?.url, TAG);
  // A URL that cannot be pulled: reported, the one serving goes on.
  await updater.follow("registry.example/pipelines/nope:v1");
  assertEquals(await served(), 2);
  assertMatch(pipelines.updateFailure!.error, /cannot pull registry\.example\/pipelines\/nope:v1/);
  await updater.stop();
  await pipelines.close();
});

Deno.test("a model whose worker thread died is answered 503 and loaded again by the update path", async () => {
  const { backend, pipelines, registry, updater, lines, version, served, ready } = setUp();
  await version("sha256:1", 1);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  updater.start(TAG, "sha256:1");
  const loads = backend.loads.length;
  backend.kill("v1");
  assertEquals(await ready(), "503 not ready: model m stopped; it is being loaded again");
  assertMatch(String(await served()), /^503 model m stopped .*it is being restarted/);
  await updater.check(); // queued behind the reload
  assertEquals(backend.loads.length, loads + 1);
  assertEquals(await served(), 1);
  assertEquals(await ready(), "200");
  assert(
    lines.some((l) => /error: Model m's worker thread stopped: loading pipeline .* again/.test(l)),
    lines.join("\n"),
  );
  await updater.stop();
  await pipelines.close();
});

Deno.test("a pinned URL from Ops that fails to pull is tried again when Ops asks again; servingUrl names what serves meanwhile", async () => {
  const { backend, pipelines, registry, updater, lines, version, served } = setUp();
  await version("sha256:1", 1);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  updater.start(TAG, "sha256:1");
  const assigned = "registry.example/pipelines/prices@sha256:2";
  // The registry does not have it yet (or is away): the old one serves on, and is what Ops is told is in use.
  await updater.follow(assigned);
  assertEquals([updater.url, updater.servingUrl, await served()], [assigned, TAG, 1]);
  assertMatch(lines.join("\n"), /Update to .*@sha256:2 failed: cannot pull it/);
  // A model of the one serving dies meanwhile: it is loaded again from its own URL, not the one that failed.
  backend.kill("v1");
  assertMatch(String(await served()), /^503 model m stopped/);
  await updater.check();
  assertEquals(await served(), 1);
  assertMatch(lines.join("\n"), /loading pipeline registry\.example\/pipelines\/prices:live again/);
  await version("sha256:2", 2);
  await updater.follow(assigned); // the next check-in
  assertEquals([updater.servingUrl, await served()], [assigned, 2]);
  const fetches = registry.fetches;
  await updater.follow(assigned);
  assertEquals(registry.fetches, fetches, "a pinned URL that serves is not pulled again");

  // One that fails to load is not pulled again: a digest never changes.
  const broken = "registry.example/pipelines/prices@sha256:bad";
  await version("sha256:bad", 9, { add: 9, refusesLoad: "Protobuf parsing failed" });
  await updater.follow(broken);
  await updater.follow(broken);
  assertEquals([registry.fetches, updater.servingUrl, await served()], [fetches + 1, assigned, 2]);
  await updater.stop();
  await pipelines.close();
});

Deno.test("a reload that fails is tried again by itself, 2 × longer each time, and not by every request meanwhile", async () => {
  const { backend, pipelines, registry, updater, lines, version, served, ready } = setUp(50);
  await version("sha256:1", 1);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  updater.start(TAG, "sha256:1");
  const manifest = registry.manifests.get("sha256:1")!;
  registry.manifests.set("sha256:1", new Error("the registry is away and the cache was lost"));
  backend.kill("v1");
  const reloads = () => lines.filter((l) => /loading pipeline .*:live again/.test(l)).length;
  assertMatch(String(await served()), /^503 model m stopped/);
  await updater.check(); // queued behind the reload, which fails
  assertEquals(reloads(), 1);
  assertMatch(lines.join("\n"), /The reload failed: the next one in 0.05 s/);
  for (let i = 0; i < 20; i++) assertMatch(String(await served()), /^503 model m stopped/);
  assertEquals(reloads(), 1, "requests within the wait ask for no reload");
  // Not ready, so no request may come: the next reload is due by itself.
  assertEquals(await ready(), "503 not ready: model m stopped; it is being loaded again");
  await until(() => lines.some((l) => /the next one in 0.1 s/.test(l)));
  assertEquals(reloads(), 2);
  registry.manifests.set("sha256:1", manifest);
  await until(() => reloads() === 3);
  await updater.check();
  assertEquals([await served(), await ready()], [1, "200"]);
  await updater.stop();
  await pipelines.close();
});

Deno.test("a version whose model dies while warming up fails to load: the old one serves, and nothing reloads in a loop", async () => {
  const { backend, pipelines, registry, updater, lines, version, served } = setUp(50);
  await version("sha256:1", 1);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  updater.start(TAG, "sha256:1");
  await version("sha256:2", 2, { add: 2, diesOnFirstRun: true });
  registry.names.set(TAG, "sha256:2");
  await updater.check();
  const loads = backend.loads.length;
  await new Promise((r) => setTimeout(r, 300)); // six reload backoffs' worth
  assertEquals(backend.loads.length, loads, "the dying version was loaded again and again");
  assertEquals(await served(), 1);
  assertMatch(lines.join("\n"), /failed to load: model 'm' stopped while warming up/);
  assertEquals(lines.filter((l) => /again/.test(l)), []);
  await updater.stop();
  await pipelines.close();
});

Deno.test("a reload loads what serves when it runs: none before start, none once an assigned version replaced the dead one", async () => {
  const { backend, pipelines, registry, updater, lines, version, served } = setUp();
  await version("sha256:1", 1);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  backend.kill("v1");
  // Before start() (the first load still under way in serve): not the built-in demo in its place.
  await updater.reload("Model m's worker thread stopped");
  assertEquals([registry.fetches, lines.filter((l) => /again/.test(l))], [1, []]);
  updater.start(TAG, "sha256:1");
  // Ops assigns another version, and the dead model asks for a reload while that is under way.
  const assigned = "registry.example/pipelines/prices@sha256:2";
  await version("sha256:2", 2);
  const following = updater.follow(assigned);
  assertMatch(String(await served()), /^503 model m stopped/);
  await following;
  await updater.check();
  assertEquals([await served(), updater.servingUrl, registry.fetches], [2, assigned, 2]);
  await updater.stop();
  await pipelines.close();
});

Deno.test("a new version that cannot be pulled while the cache gives the one serving is not swapped in again", async () => {
  const { backend, pipelines, registry, updater, lines, version } = setUp();
  await version("sha256:1", 1);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  updater.start(TAG, "sha256:1");
  const loads = backend.loads.length;
  // The tag names sha256:2, but its pull falls back to the cache, which holds sha256:1 (registry/mod.ts).
  registry.names.set(TAG, "sha256:2");
  const cached = registry.manifests.get("sha256:1") as PipelineDefinition;
  registry.fetch = (url) => Promise.resolve({ ...cached, source: { reference: url!, digest: "sha256:1" } });
  await updater.check();
  await updater.check();
  assertEquals(backend.loads.length, loads, "the version serving was loaded beside itself");
  const said = lines.filter((l) => /could not be pulled; prices version .* serves on/.test(l));
  assertEquals(said.length, 1, lines.join("\n"));
  await updater.stop();
  await pipelines.close();
});

Deno.test("the same, when the tag names an index: the cache's copy (the index's manifest) is the version serving too", async () => {
  const { backend, pipelines, registry, updater, lines, version } = setUp();
  await version("sha256:child", 1);
  const cached = registry.manifests.get("sha256:child") as PipelineDefinition;
  // Served online: the tag named an index (sha256:index) whose pipeline manifest is sha256:child.
  await pipelines.load({ ...cached, source: { reference: TAG, digest: "sha256:index", manifest: "sha256:child" } });
  updater.start(TAG, "sha256:index", "sha256:child");
  const loads = backend.loads.length;
  registry.names.set(TAG, "sha256:index2");
  registry.fetch = (url) => Promise.resolve({ ...cached, source: { reference: url!, digest: "sha256:child" } });
  await updater.check();
  assertEquals(backend.loads.length, loads, "the version serving was loaded beside itself");
  assertMatch(lines.join("\n"), /Update to .* \(sha256:index2\) could not be pulled/);
  await updater.stop();
  await pipelines.close();
});

Deno.test("a version whose layer comes corrupt is pulled again after 1 min, then 2, …; a registry away at each check; the tag moving on at once", async () => {
  let now = 0;
  const { pipelines, registry, updater, lines, version, served } = setUp(undefined, () => now);
  await version("sha256:1", 1);
  registry.names.set(TAG, "sha256:1");
  await pipelines.load(await registry.fetch(TAG));
  updater.start(TAG, "sha256:1");
  const corrupt = new RegistryError("blob sha256:ab does not match its digest (got sha256:cd): refused", {
    corrupt: true,
  });
  registry.manifests.set("sha256:bad", corrupt);
  registry.names.set(TAG, "sha256:bad");
  await updater.check();
  assertMatch(
    lines.at(-1)!,
    /Update to .*:live failed: cannot pull it: blob sha256:ab .*refused; sha256:bad is not pulled again for 1 min; still serving prices version 1/,
  );
  assertMatch(pipelines.updateFailure!.error, /not pulled again for 1 min/);
  const fetches = registry.fetches;
  now += 59_000;
  await updater.check();
  assertEquals(registry.fetches, fetches, "pulled again (downloading the layer again) within the minute");
  now += 1_000;
  await updater.check();
  assertEquals(registry.fetches, fetches + 1);
  assertMatch(lines.at(-1)!, /not pulled again for 2 min/);
  now += 119_000;
  await updater.check();
  assertEquals(registry.fetches, fetches + 1);

  // Ops assigning it by digest waits as well; a registry away (nothing downloaded) is asked at every check-in.
  const pinned = "registry.example/pipelines/prices@sha256:bad";
  await updater.follow(pinned);
  assertMatch(
    lines.at(-1)!,
    /prices@sha256:bad: a layer of it came corrupt .*; it is pulled again from 1970-01-01T00:03:00/,
  );
  await updater.follow(pinned);
  assertEquals(registry.fetches, fetches + 1);
  const away = "registry.example/pipelines/prices@sha256:away";
  registry.manifests.set("sha256:away", new RegistryError("registry.example is unreachable", { unavailable: true }));
  await updater.follow(away);
  await updater.follow(away);
  assertEquals(registry.fetches, fetches + 3);

  // A tag Ops hands over, pulled before its digest is known, waits too once that pull comes corrupt.
  const canary = "registry.example/pipelines/prices:canary";
  registry.names.set(canary, "sha256:bad");
  await updater.follow(canary);
  await updater.follow(canary);
  assertEquals(registry.fetches, fetches + 4);
  assertMatch(lines.at(-1)!, /:canary failed: cannot pull it: .*not pulled again for 4 min/);

  // The tag moving on is pulled at once; a good pull ends the wait.
  await updater.follow(TAG);
  await version("sha256:3", 3);
  registry.names.set(TAG, "sha256:3");
  await updater.check();
  assertEquals(await served(), 3);
  await updater.stop();
  await pipelines.close();
});
