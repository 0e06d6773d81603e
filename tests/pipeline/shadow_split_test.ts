/**
 * Shadow deploys and A/B splits (scripted models, to hold and fail runs on
 * cue): shadows get the step's input and reach `shadow_data` only, a failing
 * or held one never fails or holds the reply, and a held one never queues;
 * splits serve one variant per request, by weight or by key.
 */
import { createApp } from "../../src/server/app.ts";
import { PipelineManager } from "../../src/pipeline/manager.ts";
import { runPipeline, settledAfter, SHADOW_MAX_INFLIGHT } from "../../src/pipeline/loaded.ts";
import type { ModelArtifact, PipelineDefinition } from "../../src/pipeline/spec.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { FakeBackend, gate, type Script } from "../support/fake_backend.ts";

const VERSION = "11111111-1111-4111-8111-111111111111";

function post(pipelines: PipelineManager, records: unknown[], random?: () => number) {
  return createApp({ pipelines, now: Date.now, maxBodyBytes: 1 << 20, random }).request("/infer", {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: JSON.stringify(records),
  });
}

/** A one-step pipeline serving `champion`, with `shadows` beside it. */
function oneStep(name: string, champion: ModelArtifact, shadows: ModelArtifact[] = []): PipelineDefinition {
  return { name, version: VERSION, steps: [{ variants: [{ model: champion, weight: 1 }], shadows }] };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await new Promise((r) => setTimeout(r, 0));
  assert(done(), "the condition never held");
}

Deno.test("shadows: same input, outputs in shadow_data shaped as outputs; a failing or held shadow is left out and holds nothing", async () => {
  const backend = new FakeBackend();
  const pipelines = new PipelineManager(backend);
  const slow: Script = { add: 100 };
  await pipelines.load(oneStep("shadowed", await backend.model("champion", "c", { add: 1 }), [
    await backend.model("challenger", "ok", { add: 10 }),
    await backend.model("broken", "bad", { add: 0, fails: "Gather: index out of range" }),
    await backend.model("slow", "slow", slow),
  ]));
  const held = gate();
  slow.gate = held.wait;

  // The reply comes while the slow shadow's run is still held open: it never waits on it past the bound.
  const [a, b] = await (await post(pipelines, [{ tensor: [1] }, { tensor: [2] }])).json();
  assertEquals(held.waiting(), 1);
  assertEquals(a.outputs, [{ Float: { data: [2], dim: [1, 1], v: 1 } }]);
  assertEquals(a.shadow_data, { challenger: [{ Float: { data: [11], dim: [1, 1], v: 1 } }] });
  assertEquals(b.shadow_data, { challenger: [{ Float: { data: [12], dim: [1, 1], v: 1 } }] });
  assertEquals(a.model_name, "champion");

  // A held shadow never queues: past SHADOW_MAX_INFLIGHT runs, requests skip it.
  for (let i = 0; i < 3; i++) assertEquals((await post(pipelines, [{ tensor: [i] }])).status, 200);
  assertEquals(held.waiting(), SHADOW_MAX_INFLIGHT);

  // Swapped out, the old version is released only once its shadow runs are done.
  const drained = pipelines.swap(
    await pipelines.prepare(oneStep("next", await backend.model("champion", "c2", { add: 1 }))),
  );
  await until(() => backend.loads.includes("c2"));
  assertEquals(backend.releases, []);
  held.open();
  await drained;
  assertEquals(backend.releases.sort(), ["bad", "c", "ok", "slow"]);

  // At shutdown too: the pipeline serving is released only once the shadow run a request left behind is done.
  const shadowed = new PipelineManager(backend);
  const late: Script = { add: 100 };
  await shadowed.load(oneStep("shadowed", await backend.model("champion", "c3", { add: 1 }), [
    await backend.model("late", "late", late),
  ]));
  const lateGate = gate();
  late.gate = lateGate.wait;
  assertEquals((await post(shadowed, [{ tensor: [1] }])).status, 200);
  let closed = false;
  const closing = shadowed.close().then(() => closed = true);
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 0));
  const released = (version: string) => (backend.releases as string[]).includes(version);
  assertEquals([closed, released("late")], [false, false]);
  lateGate.open();
  await closing;
  assert(released("late") && released("c3"));
  await pipelines.close();
});

Deno.test("a failed request is answered at once; its shadow still running holds a retired pipeline's models until done", async () => {
  const backend = new FakeBackend();
  const pipelines = new PipelineManager(backend);
  const slow: Script = { add: 100 };
  await pipelines.load(
    oneStep("shadowed", await backend.model("champion", "c", { add: 0, fails: "Gather: index out of range" }), [
      await backend.model("slow", "slow", slow),
    ]),
  );
  const held = gate();
  slow.gate = held.wait;
  const reply = post(pipelines, [{ tensor: [1] }]);
  await until(() => held.waiting() === 1);
  const drained = pipelines.swap(
    await pipelines.prepare(oneStep("next", await backend.model("champion", "c2", { add: 1 }))),
  );
  // The champion has failed; the retired version stays loaded while its shadow runs (a freed session under a run
  // is a use-after-free in native onnxruntime).
  const response = await reply;
  assertEquals(response.status, 500, "the error waits for no shadow");
  assert((await response.text()).includes("Gather: index out of range"));
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 0));
  assertEquals(backend.releases, []);
  assertEquals(held.waiting(), 1);
  held.open();
  await drained;
  assertEquals(backend.releases.sort(), ["c", "slow"]);
  await pipelines.close();
});

Deno.test("one error failing two runs (a batch's) holds the pipeline until the shadows of both runs are done", async () => {
  const backend = new FakeBackend();
  const pipelines = new PipelineManager(backend);
  const shared = new Error("out of GPU memory");
  const slow: Script = { add: 100 };
  await pipelines.load(
    oneStep("shadowed", await backend.model("champion", "c", { add: 0, failsWith: shared }), [
      await backend.model("slow", "slow", slow),
    ]),
  );
  const pipeline = pipelines.current!;
  const input = (x: number) => ({
    rows: 1,
    tensors: { tensor: { type: "float32" as const, data: new Float32Array([x]), dims: [1, 1] } },
    originalData: () => null,
  });
  const [first, second] = [gate(), gate()];
  slow.gate = first.wait;
  const a = runPipeline(pipeline, input(1)).catch((err) => err);
  await until(() => first.waiting() === 1);
  slow.gate = second.wait;
  const b = runPipeline(pipeline, input(2)).catch((err) => err);
  await until(() => second.waiting() === 1);
  assertEquals([await a, await b], [shared, shared]);
  let settled = false;
  void settledAfter(shared).then(() => settled = true);
  second.open();
  for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 0));
  assertEquals(settled, false, "settled with the first run's shadow still running");
  first.open();
  await settledAfter(shared);
  await pipelines.close();
});

/** FNV-1a 32 over UTF-8, written out here from its definition (docs/pipeline-artifact.md names it). */
function fnv(text: string): number {
  let h = 2166136261;
  for (const byte of new TextEncoder().encode(text)) h = Number((BigInt((h ^ byte) >>> 0) * 16777619n) % 4294967296n);
  return h;
}

Deno.test("A/B: one variant per request, by weight (random) or by a request field (keyed); model_name says which", async () => {
  const backend = new FakeBackend();
  const variants = async (key?: string): Promise<PipelineDefinition> => ({
    name: "ab",
    version: VERSION,
    steps: [{
      variants: [
        { model: await backend.model("control", "control", { add: 1 }), weight: 3 },
        { model: await backend.model("challenger", "challenger", { add: 2 }), weight: 1 },
      ],
      splitKey: key,
    }],
  });
  const served = async (pipelines: PipelineManager, records: unknown[], random?: () => number) => {
    const body = await (await post(pipelines, records, random)).json();
    return body.map((r: { model_name: string; outputs: { Float: { data: number[] } }[] }) =>
      `${r.model_name} ${r.outputs[0].Float.data[0]}`
    );
  };

  const random = new PipelineManager(backend);
  await random.load(await variants());
  // Weights 3:1 over [0, 4): draws below 3/4 go to control, the rest to challenger; all rows of a request together.
  assertEquals(await served(random, [{ tensor: [1] }, { tensor: [2] }], () => 0.74), ["control 2", "control 3"]);
  assertEquals(await served(random, [{ tensor: [1] }, { tensor: [2] }], () => 0.75), ["challenger 3", "challenger 4"]);
  await random.close();

  const keyed = new PipelineManager(backend);
  await keyed.load(await variants("user"));
  const users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", 42];
  const seen = new Set<string>();
  for (const user of users) {
    const text = typeof user === "string" ? user : JSON.stringify(user);
    const expected = fnv(text) % 4 < 3 ? "control 2" : "challenger 3";
    for (let i = 0; i < 2; i++) {
      assertEquals(await served(keyed, [{ tensor: [1], user }], () => 0.99), [expected], `user ${user}`);
    }
    seen.add(expected);
  }
  assertEquals(seen.size, 2, "both variants served some users");
  // No key in the request: the first variant.
  assertEquals(await served(keyed, [{ tensor: [1] }], () => 0.99), ["control 2"]);
  // A V2 request carries only model inputs: its key is in `parameters`, hashed the same way.
  const v2 = async (parameters?: Record<string, unknown>) => {
    const res = await createApp({ pipelines: keyed, now: Date.now, maxBodyBytes: 1 << 20, random: () => 0.99 })
      .request("/v2/models/ab/infer", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ parameters, inputs: [{ name: "tensor", shape: [1, 1], datatype: "FP32", data: [1] }] }),
      });
    const body = await res.json();
    return res.status === 200 ? body.outputs[0].data[0] : `${res.status} ${body.error}`;
  };
  for (const user of users) {
    const text = typeof user === "string" ? user : JSON.stringify(user);
    assertEquals(await v2({ user }), fnv(text) % 4 < 3 ? 2 : 3, `V2 user ${user}`);
  }
  assertEquals(await v2(), 2);
  assertEquals(await v2({ other: "x" }), 2);
  assertEquals(await v2(["user"] as unknown as Record<string, unknown>), "400 'parameters' must be an object");
  await keyed.close();
});
