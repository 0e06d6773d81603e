/**
 * The status page (`GET /`) and the hub's fleet page in headless Chromium
 * with JavaScript off, against a real tern that ships its log to a real
 * tern hub: every number a person reads there is the API's (`/pipelines`,
 * `/models`, `/v2/models/…`, `/logs/status`, `/metrics`, the hub's `/edges`
 * and `/metrics`), the page holds no script and reloads itself with new
 * numbers. Screenshots land in tests/output/ (docs/status-page.png and
 * docs/fleet-page.png are copies of them, for the README).
 */
import type { Page } from "playwright-core";
import { assert, assertEquals } from "../support/assert.ts";
import { launchChromium, screenshotPath } from "../support/browser.ts";
import { addEdge, edgeOf, freePort, startHub, until } from "../support/hub_process.ts";
import { parseExposition } from "../support/prometheus.ts";
import { loadReference, recordsBody } from "../support/reference.ts";
import { startTern } from "../support/tern_process.ts";

const ref = loadReference();
const PIPELINE = "house-price-estimator";

async function infer(url: string, rows: number[][]): Promise<void> {
  const res = await fetch(`${url}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json; format=pandas-records" },
    body: recordsBody(rows),
  });
  await res.body?.cancel();
  assertEquals(res.status, 200);
}

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent())!.trim();
}

/** A count as the page writes it ("1,234") as a number. */
async function number(page: Page, selector: string): Promise<number> {
  return Number((await text(page, selector)).replaceAll(",", ""));
}

Deno.test({
  name: "the status page and the fleet page show what the APIs say, without a script, and reload themselves",
  sanitizeResources: false, // playwright-core's pipes to Chromium close after the test's end
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tern-status-page-" });
    const state = { stateDir: `${dir}/hub` };
    const hub = await startHub(state, freePort());
    const bundle = await addEdge(state, "edge-1", hub.host);
    const tern = await startTern({
      env: {
        EDGE_BUNDLE: bundle,
        PERSISTENT_VOLUME_DIR: `${dir}/persist`,
        LOCAL_INFERENCE_STORAGE: "8Mi",
        PLATEAU_PAGE_SIZE: "100",
        OPS_CHECKIN_INTERVAL: "1",
      },
    });
    const browser = await launchChromium();
    try {
      // Traffic in three bursts a chart interval apart (5 s), so the chart has bars to show.
      let rows = 0;
      for (const [burst, size] of [[0, 40], [1, 15], [2, 60]]) {
        if (burst > 0) await new Promise((r) => setTimeout(r, 5_000));
        for (let i = 0; i < size; i++) {
          const n = 1 + (i % 3);
          await infer(tern.url, ref.inputs.slice(i % 10, (i % 10) + n));
          rows += n;
        }
      }
      // Everything reached the hub, and the edge knows it.
      await until("the hub holds every row", async () => (await edgeOf(hub.url, "edge-1")).rows_received === rows);
      await until("the edge's backlog is 0", async () => {
        const m = await parseExposition(await (await fetch(`${tern.url}/metrics`)).text());
        return m.value("tern_ops_backlog_rows") === 0;
      });

      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const res = await page.goto(`${tern.url}/`);
      assertEquals(res?.status(), 200);
      assertEquals(await page.locator("script").count(), 0);
      assertEquals(await page.locator('meta[http-equiv="refresh"]').getAttribute("content"), "5");

      // The pipeline and its model, as /pipelines, /models and the V2 metadata say.
      const { pipelines: [pipeline] } = await (await fetch(`${tern.url}/pipelines`)).json();
      const { models: [model] } = await (await fetch(`${tern.url}/models`)).json();
      const meta = await (await fetch(`${tern.url}/v2/models/${PIPELINE}`)).json();
      assertEquals(await text(page, "#pipeline-name"), pipeline.id);
      assertEquals(await text(page, "#pipeline-status"), pipeline.status);
      assertEquals(await text(page, "#pipeline-version"), meta.versions[0]);
      const row = page.locator(`tr[data-model="${model.name}"]`);
      assertEquals((await row.locator(".backend").textContent())?.trim(), model.backend);
      assertEquals(await row.locator(".sha").getAttribute("title"), model.sha);
      assertEquals((await row.locator(".sha").textContent())?.trim(), model.sha.slice(0, 12));
      assertEquals((await row.locator(".version").textContent())?.trim(), model.version);
      assert((await row.locator(".warmup").textContent())!.includes(model.backend));

      // Activity as /metrics counts it; the log as /logs/status has it; Ops sync done.
      const m = await parseExposition(await (await fetch(`${tern.url}/metrics`)).text());
      const served = { pipeline: PIPELINE, model: PIPELINE };
      assertEquals(await number(page, "#inferences"), m.value("tern_inference_requests_total", served));
      assertEquals(await number(page, "#rows"), rows);
      assertEquals(m.value("tern_inference_rows_total", served), rows);
      const log = await (await fetch(`${tern.url}/logs/status`)).json();
      assertEquals(await number(page, "#log-committed"), log.committedRows);
      assertEquals(Number(await page.locator("#log-used").getAttribute("data-bytes")), log.usedBytes);
      assertEquals(Number(await page.locator("#log-cap").getAttribute("data-bytes")), log.capBytes);
      assertEquals(await number(page, "#log-evicted"), log.evictedRows);
      assertEquals(await text(page, "#ops-state"), "in sync");
      assertEquals(await text(page, "#ops-edge"), "edge-1");
      assertEquals(await number(page, "#ops-backlog"), 0);
      assertEquals(await number(page, "#ops-uploaded"), rows);
      assertEquals(await page.locator("tr.recent").count(), 10);
      assert(await page.locator("svg rect.rate").count() >= 1);
      await page.screenshot({ path: await screenshotPath("status-page.png"), fullPage: true });

      // It reloads itself (meta refresh, no script) and then shows the inference made meanwhile.
      const before = await number(page, "#inferences");
      await infer(tern.url, [ref.inputs[0]]);
      await page.waitForEvent("load", { timeout: 60_000 });
      assertEquals(await number(page, "#inferences"), before + 1);

      // The hub's fleet page, as its /edges and /metrics say (once the last row arrived).
      await until(
        "the hub holds the last row",
        async () => (await edgeOf(hub.url, "edge-1")).rows_received === rows + 1,
      );
      const edge = await edgeOf(hub.url, "edge-1");
      const fleet = await context.newPage();
      assertEquals((await fleet.goto(`${hub.url}/`))?.status(), 200);
      assertEquals(await fleet.locator("script").count(), 0);
      assertEquals(await number(fleet, "#fleet-edges"), 1);
      const edgeRow = fleet.locator('tr[data-edge="edge-1"]');
      assertEquals(Number((await edgeRow.locator(".rows").textContent())!.replaceAll(",", "")), edge.rows_received);
      assertEquals(Number((await edgeRow.locator(".backlog").textContent())!.replaceAll(",", "")), edge.backlog_rows);
      assertEquals(Number((await edgeRow.locator(".pages").textContent())!.replaceAll(",", "")), edge.pages_received);
      const hm = await parseExposition(await (await fetch(`${hub.url}/metrics`)).text());
      assertEquals(hm.value("tern_hub_edge_rows_received_total", { edge: "edge-1" }), edge.rows_received);
      assertEquals(hm.value("tern_hub_edges", { state: "in contact" }), 1);
      assert(hm.value("tern_http_requests_total", { method: "POST", route: "/v1/logs", status: "200" }) > 0);
      await fleet.screenshot({ path: await screenshotPath("fleet-page.png"), fullPage: true });
      await context.close();
    } finally {
      await browser.close();
      await tern.stop();
      await hub.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
