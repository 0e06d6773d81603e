/**
 * Swapping versions under requests (scripted models hold runs open on cue):
 * a running request finishes on the version it started on, which is released
 * only then; a version that fails to load leaves the old one serving, with
 * the failure reported.
 */
import { createApp } from "../../src/server/app.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { modelStep, type PipelineDefinition } from "../../src/pipeline/spec.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { FakeBackend, gate, type Script } from "../support/fake_backend.ts";

const V1 = "11111111-1111-4111-8111-111111111111";
const V2 = "22222222-2222-4222-8222-222222222222";

/** A one-model pipeline `name`@`version` whose model adds `add`. */
async function single(backend: FakeBackend, name: string, version: string, key: string, script: Script) {
  return { name, version, steps: [modelStep(await backend.model("m", key, script))] } as PipelineDefinition;
}

function post(pipelines: PipelineManager, path: string, x: number) {
  return createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20 }).request(path, {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: JSON.stringify([{ tensor: [x] }]),
  });
}

/** Lets queued work run until `done()` holds (no clock involved: it only yields to the event loop). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await new Promise((r) => setTimeout(r, 0));
  assert(done(), "the condition never held");
}

Deno.test("a swap never changes the pipeline under a running request; the old one is released after its last", async () => {
  const backend = new FakeBackend();
  const pipelines = new PipelineManager(backend);
  const v1Script: Script = { add: 1 };
  await pipelines.load(await single(backend, "prices", V1, "v1", v1Script));
  const held = gate();
  v1Script.gate = held.wait;

  const first = post(pipelines, "/pipelines/prices", 5);
  await until(() => held.waiting() === 1);

  const drained = pipelines.swap(await pipelines.prepare(await single(backend, "prices-v2", V2, "v2", { add: 2 })));
  // New requests are served by the new version at once, while the old one still runs the first.
  const second = await post(pipelines, "/infer", 5);
  assertEquals((await second.json())[0].outputs[0].Float.data, [7]);
  assertEquals((await post(pipelines, "/pipelines/prices", 5)).status, 404); // the old name is gone
  assertEquals(backend.releases, []);

  held.open();
  const [reply] = await (await first).json();
  assertEquals([reply.pipeline_name, reply.outputs[0].Float.data], ["prices", [6]]);
  await drained;
  assertEquals(backend.releases, ["v1"]);
  await pipelines.close();
  assertEquals(backend.releases, ["v1", "v2"]);
});

Deno.test("a version that fails to load leaves the old one serving; /pipelines and /models report the failure until another serves", async () => {
  const backend = new FakeBackend();
  const pipelines = new PipelineManager(backend);
  const app = createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20 });
  await pipelines.load(await single(backend, "prices", V1, "v1", { add: 1 }));
  const broken = await single(backend, "prices", V2, "broken", { add: 0, refusesLoad: "protobuf parsing failed" });
  let thrown: unknown;
  await pipelines.prepare(broken).catch((err) => thrown = err);
  assertMatch(String(thrown), /protobuf parsing failed/);

  assertEquals(pipelines.status, "Running");
  assertEquals((await (await post(pipelines, "/infer", 1)).json())[0].outputs[0].Float.data, [2]);
  assertEquals((await (await app.request("/pipelines")).json()).pipelines, [
    { id: "prices", status: "Running" },
    { id: "prices", status: "Error", version: V2, error: "model m: protobuf parsing failed" },
  ]);
  const models = (await (await app.request("/models")).json()).models;
  assertEquals(models.map((m: { status: string; version: string }) => [m.status, m.version]), [
    ["Running", pipelines.current!.models[0].version],
    ["Error", broken.steps[0].variants[0].model.version],
  ]);
  assertEquals(models[1].error, "model m: protobuf parsing failed");

  await pipelines.load(await single(backend, "prices", V2, "v2", { add: 2 }));
  assertEquals((await (await app.request("/pipelines")).json()).pipelines, [{ id: "prices", status: "Running" }]);
  assertEquals((await (await app.request("/models")).json()).models.length, 1);
  await pipelines.close();
});
