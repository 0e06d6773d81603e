/**
 * @module
 * A log page carries what the edge's `/logs` shows: validation results
 * (`anomaly.<name>`) and shadow outputs (`shadow_data`) travel with their
 * rows from the edge's encoder to the hub's decoder, and a page of a pipeline
 * without them carries neither.
 */
import { decodePage } from "../../src/hub/page.ts";
import type { StoredLogRow } from "../../src/logs/query.ts";
import { encodePage } from "../../src/ops/page.ts";
import { pageKey } from "../../src/ops/protocol.ts";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { Table, tableFromIPC, tableToIPC, vectorFromArray } from "apache-arrow";
import { BadInput } from "../../src/errors.ts";

function row(id: number, extra: Partial<StoredLogRow> = {}): StoredLogRow {
  return {
    id,
    time: 1_700_000_000_000 + id,
    inJson: '{"tensor":[1.0,2.0]}',
    outJson: '{"variable":[3.5]}',
    anomalyCount: 0,
    pipelineName: "p",
    pipelineVersion: "v1",
    lastModel: '{"model_name":"m","model_sha":"s"}',
    elapsedJson: "[10,20]",
    droppedJson: "[]",
    partition: "edge-1",
    uploaded: 0,
    ...extra,
  };
}

Deno.test("validation results and shadow outputs reach the hub with their rows", () => {
  const rows = [
    row(1, {
      anomalyCount: 1,
      anomalyJson: '{"too_high":true,"negative":false}',
      shadowJson: '{"challenger":{"y":[2.0]}}',
    }),
    row(2, { anomalyJson: '{"too_high":false,"negative":false}', shadowJson: '{"challenger":{"y":[4.0]}}' }),
  ];
  const page = encodePage(rows);
  const names = tableFromIPC(page).schema.fields.map((f) => f.name);
  assertEquals(names.filter((n) => n.startsWith("anomaly.") || n === "shadow_data"), [
    "anomaly.count",
    "anomaly.negative",
    "anomaly.too_high",
    "shadow_data",
  ]);
  const decoded = decodePage(page, "e1", "edge-1", pageKey("e1", 1, 2));
  assertEquals(decoded.map((r) => [r.anomalyCount, JSON.parse(r.anomalyJson), JSON.parse(r.shadowJson)]), [
    [1, { negative: false, too_high: true }, { challenger: { y: [2.0] } }],
    [0, { negative: false, too_high: false }, { challenger: { y: [4.0] } }],
  ]);
});

Deno.test("a page of a pipeline without validations or shadows carries neither column", () => {
  const page = encodePage([row(7)]);
  assertEquals(tableFromIPC(page).schema.fields.some((f) => f.name === "shadow_data" || f.name === "anomaly.x"), false);
  const [decoded] = decodePage(page, "e1", "edge-1", pageKey("e1", 7, 7));
  assertEquals([decoded.anomalyJson, decoded.shadowJson], ["{}", "{}"]);
});

Deno.test("a row that lacks a validation another row of the page has reaches the hub without it, as the edge's /logs shows it", () => {
  // Rows from before and after a pipeline update that added the `negative` check, or a row served without checks.
  const rows = [
    row(1, { anomalyJson: '{"too_high":true,"negative":false}', anomalyCount: 1 }),
    row(2, { anomalyJson: '{"too_high":false}' }),
    row(3, { anomalyJson: "{}" }),
  ];
  const decoded = decodePage(encodePage(rows), "e1", "edge-1", pageKey("e1", 1, 3));
  assertEquals(decoded.map((r) => JSON.parse(r.anomalyJson)), [
    { negative: false, too_high: true },
    { too_high: false },
    {},
  ]);
});

Deno.test("a page whose column has another type than the protocol's is bad_page (400, which the edge narrows down), not a 500 it would retry forever", () => {
  const sent = tableFromIPC(encodePage([row(1)]));
  const columns = Object.fromEntries(
    sent.schema.fields.map((f) => [
      f.name,
      f.name === "metadata.elapsed" ? vectorFromArray(["[10,20]"]) : sent.getChild(f.name)!,
    ]),
  );
  const page = tableToIPC(new Table(columns), "stream");
  const err = (() => {
    try {
      decodePage(page, "e", "edge-1", pageKey("e", 1, 1));
    } catch (e) {
      return e;
    }
  })();
  assert(err instanceof BadInput, String(err));
  assertEquals(err.code, "bad_page");
  assertMatch(err.message, /row 0: a column does not have the protocol's type/);
});
