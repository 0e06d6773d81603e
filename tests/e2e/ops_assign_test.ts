/**
 * @module
 * A pipeline assigned by Ops reaches the edge: `tern hub set-pipeline` on a
 * serving edge makes it pull, load and swap in the assigned pipeline from the
 * real registry at its next check-in, with no restart, and its next check-ins
 * report the URL it now follows; restarted while Ops is away, it serves the
 * assigned pipeline, not its bundle's. Real processes: tern hub, tern,
 * docker-registry.
 */
import { assertEquals } from "../support/assert.ts";
import { addEdge, freePort, runToExit, startHub, until } from "../support/hub_process.ts";
import { recordsBody } from "../support/reference.ts";
import { startRegistry } from "../support/registry.ts";
import { startTern } from "../support/tern_process.ts";
import { publishModel } from "../support/publish.ts";

const MODEL = new URL("../../assets/demo/house-price-estimator.onnx", import.meta.url).pathname;
const ROW = [
  4.0,
  2.5,
  2900.0,
  5505.0,
  2.0,
  0.0,
  0.0,
  3.0,
  8.0,
  2900.0,
  0.0,
  47.6063,
  -122.02,
  2970.0,
  5251.0,
  12.0,
  0.0,
  0.0,
];

Deno.test("tern hub set-pipeline: the edge follows the assigned pipeline at its next check-in, without a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-ops-assign-" });
  const registry = await startRegistry("none");
  const state = { stateDir: `${dir}/hub` };
  const hub = await startHub(state, freePort());
  try {
    const reference = `${registry.host}/pipelines/assigned:v1`;
    const published = await publishModel(MODEL, "assigned-pipeline", reference);
    assertEquals(published.code, 0, published.stderr);
    const bundle = await addEdge(state, "edge-a", hub.host);
    const env = { EDGE_BUNDLE: bundle, PERSISTENT_VOLUME_DIR: `${dir}/persist`, OPS_CHECKIN_INTERVAL: "1" };
    let tern = await startTern({ env });
    try {
      const pipelines = async () => (await (await fetch(`${tern.url}/pipelines`)).json()).pipelines;
      assertEquals((await pipelines())[0].id, "house-price-estimator"); // no PIPELINE_URL: the demo
      const assigned = await runToExit(
        ["hub", "set-pipeline", "--edge", "edge-a", "--pipeline-url", reference, "--state-dir", state.stateDir],
        {},
      );
      assertEquals(assigned.code, 0, assigned.stderr);
      await until("the assigned pipeline serving", async () => (await pipelines())[0]?.id === "assigned-pipeline");
      assertEquals(await pipelines(), [{ id: "assigned-pipeline", status: "Running" }]);
      const res = await fetch(`${tern.url}/pipelines/assigned-pipeline`, {
        method: "POST",
        headers: { "content-type": "application/json; format=pandas-records" },
        body: recordsBody([ROW]),
      });
      assertEquals(res.status, 200);
      assertEquals((await res.json())[0].pipeline_name, "assigned-pipeline");
      const old = await fetch(`${tern.url}/pipelines/house-price-estimator`, { method: "POST", body: "[]" });
      assertEquals(old.status, 404);
      await old.body?.cancel();
      // The edge's check-ins now report the URL it follows as the pipeline in use.
      await until("a check-in reporting the assigned URL in use", async () => {
        const { edges } = await (await fetch(`${hub.url}/edges`)).json();
        return edges[0].pipeline_in_use === reference;
      });

      // A reboot while Ops is away: the edge serves what Ops assigned, not its bundle's pipeline (the demo).
      await tern.stop();
      await hub.stop();
      tern = await startTern({ env });
      assertEquals(await pipelines(), [{ id: "assigned-pipeline", status: "Running" }]);
      assertEquals(/the pipeline Ops assigned before this restart/.test(tern.output()), true, tern.output());

      // An assignment that cannot be had any more (its registry gone, never cached): the configured pipeline serves.
      await tern.stop();
      const sessionFile = `${dir}/persist/ops-session.json`;
      const session = JSON.parse(await Deno.readTextFile(sessionFile));
      assertEquals(session.assignedPipelineUrl, reference);
      session.assignedPipelineUrl = "127.0.0.1:9/pipelines/gone:v1";
      await Deno.writeTextFile(sessionFile, JSON.stringify(session));
      tern = await startTern({ env: { ...env, OCI_TIMEOUT: "2" } });
      assertEquals(await pipelines(), [{ id: "house-price-estimator", status: "Running" }]);
      assertEquals(/which Ops assigned: .*serving the configured one/.test(tern.output()), true, tern.output());
    } finally {
      await tern.stop();
    }
  } finally {
    await hub.stop();
    await registry.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
