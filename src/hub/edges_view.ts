/**
 * @module
 * An edge as `GET /edges` and `tern hub edges` show it (docs/ops-protocol.md,
 * Ops-side reads): what it runs, when it last called, its backlog and what
 * arrived. Never the token hash or the key.
 */
import { SESSION_TTL_MS } from "../ops/protocol.ts";
import { printable } from "../errors.ts";
import { ago } from "../time_ago.ts";
import type { EdgeRecord } from "./store.ts";

/** One edge in `GET /edges`. */
export interface EdgeView {
  name: string;
  workspace_id: string;
  pipeline_url: string | null;
  joined_at: number | null;
  last_contact: number | null;
  session_expires_at: number | null;
  status: string | null;
  pipeline_in_use: string | null;
  backlog_rows: number;
  /** Rows the edge's storage cap evicted before it uploaded them: they never arrive. */
  evicted_rows: number;
  rows_received: number;
  pages_received: number;
  duplicate_rows: number;
  largest_page_rows: number;
}

/** The public view of a stored edge. */
export function edgeView(e: EdgeRecord): EdgeView {
  return {
    name: e.name,
    workspace_id: e.workspaceId,
    pipeline_url: e.pipelineUrl,
    joined_at: e.joinedAt,
    last_contact: e.lastContact,
    session_expires_at: e.lastContact === null ? null : e.lastContact + SESSION_TTL_MS,
    status: e.status,
    pipeline_in_use: e.pipelineInUse,
    backlog_rows: Number(e.backlogRows),
    evicted_rows: Number(e.evictedRows),
    rows_received: Number(e.rowsReceived),
    pages_received: Number(e.pagesReceived),
    duplicate_rows: Number(e.duplicateRows),
    largest_page_rows: Number(e.largestPageRows),
  };
}

/** `tern hub edges`: one line per edge, columns aligned. */
export function edgesTable(edges: EdgeView[], now: number): string {
  const when = (t: number | null) => t === null ? "never" : `${new Date(t).toISOString()} (${ago(t, now)})`;
  const rows = [
    ["NAME", "LAST CONTACT", "STATUS", "PIPELINE", "BACKLOG", "ROWS RECEIVED", "ROWS LOST TO CAP"],
    ...edges.map((e) => [
      e.name,
      e.joined_at === null ? "not joined" : when(e.last_contact),
      e.status ?? "-",
      pipelineText(e),
      String(e.backlog_rows),
      String(e.rows_received),
      String(e.evicted_rows),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** The pipeline an edge is assigned, and the one it serves when that differs. */
export function pipelineText(e: EdgeView): string {
  // What the edge reports is printed without its control characters: no terminal escapes from an edge.
  return e.pipeline_in_use && e.pipeline_in_use !== e.pipeline_url
    ? `${e.pipeline_url ?? "-"} (serving ${printable(e.pipeline_in_use)})`
    : e.pipeline_url ?? "-";
}
