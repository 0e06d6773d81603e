/**
 * HTTPS between a tern edge and `tern hub serve --tls-cert --tls-key`, as
 * edges require for a hub off loopback: the bundle names an https://
 * OPSCENTER_HOST, the edge trusts the hub's (test) CA through DENO_CERT,
 * joins and uploads.
 */
import { ATTESTATION_LINE } from "../../src/ops/agent.ts";
import { assertEquals } from "../support/assert.ts";
import { addEdge, freePort, startHub, until } from "../support/hub_process.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { makeCert } from "../support/tls_cert.ts";
import { startTern } from "../support/tern_process.ts";

Deno.test("an edge joins and uploads to a hub serving HTTPS", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tern-e2e-ops-tls-" });
  try {
    // A test CA and a certificate for 127.0.0.1 signed by it (rustls refuses a self-signed CA as the server's).
    const tls = await makeCert(dir, "hub");
    const state = { stateDir: `${dir}/hub` };
    const port = freePort();
    const hub = await startHub(state, port, {}, ["--tls-cert", tls.certFile, "--tls-key", tls.keyFile]);
    const client = Deno.createHttpClient({ caCerts: [tls.ca] });
    try {
      const bundle = await addEdge(state, "edge-tls", `https://127.0.0.1:${port}`);
      const tern = await startTern({
        env: {
          EDGE_BUNDLE: bundle,
          PERSISTENT_VOLUME_DIR: `${dir}/persist`,
          DENO_CERT: tls.caFile,
          OPS_CHECKIN_INTERVAL: "1",
        },
      });
      try {
        await until("the join over HTTPS", () => tern.output().includes(ATTESTATION_LINE));
        const res = await fetch(`${tern.url}/infer`, {
          method: "POST",
          headers: { "content-type": "application/json; format=pandas-records" },
          body: recordsBody(loadReference().inputs.slice(0, 100)),
        });
        await res.body?.cancel();
        assertEquals(res.status, 200);
        await until("the rows at the hub", async () => {
          const { edges } = await (await fetch(`https://127.0.0.1:${port}/edges`, { client })).json();
          return edges[0]?.rows_received === 100;
        });
      } finally {
        await tern.stop();
      }
    } finally {
      client.close();
      await hub.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
