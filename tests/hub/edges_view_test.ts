/**
 * `tern hub edges` prints what edges report without its control characters, and the hub refuses a check-in whose
 * reported pipeline is implausibly long: an edge cannot paint the operator's terminal or flood the fleet view.
 */
import { edgesTable, type EdgeView } from "../../src/hub/edges_view.ts";
import { assert, assertMatch } from "../support/assert.ts";

const EDGE: EdgeView = {
  name: "edge-1",
  workspace_id: "default",
  pipeline_url: "reg.example.com/p/a:v1",
  joined_at: 1_700_000_000_000,
  last_contact: 1_700_000_000_000,
  session_expires_at: null,
  status: "Running",
  pipeline_in_use: "reg.example.com/p/a:v0\u001b[2J\u001b]0;pwned\u0007",
  backlog_rows: 0,
  evicted_rows: 0,
  rows_received: 0,
  pages_received: 0,
  duplicate_rows: 0,
  largest_page_rows: 0,
};

Deno.test("tern hub edges prints an edge's reported pipeline without control characters", () => {
  const table = edgesTable([EDGE], 1_700_000_060_000);
  // deno-lint-ignore no-control-regex
  assert(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(table), JSON.stringify(table));
  assertMatch(table, /\(serving reg\.example\.com\/p\/a:v0\?\[2J\?\]0;pwned\?\)/);
});
