/**
 * @module
 * What `tern hub` keeps, behind one interface with two implementations
 * through drizzle: libSQL (store_sqlite.ts, a file in the state directory)
 * and PostgreSQL (store_pg.ts, for several hub processes behind a load
 * balancer). Every rule that must hold across hub processes (unique edge
 * names, a join token burned once, each log row stored once, a request
 * token's id seen once) is a constraint or a conditional UPDATE in the
 * database, never a check in process memory.
 */
import { NotFound } from "../errors.ts";

/** A registered edge, as stored. Times are ms since the epoch. */
export interface EdgeRecord {
  id: string;
  name: string;
  workspaceId: string;
  pipelineUrl: string | null;
  tokenHash: string;
  tokenCreatedAt: number;
  tokenUsedAt: number | null;
  publicKey: string | null;
  keyThumbprint: string | null;
  joinedAt: number | null;
  lastContact: number | null;
  status: string | null;
  pipelineInUse: string | null;
  backlogRows: number;
  evictedRows: number;
  rowsReceived: number;
  pagesReceived: number;
  duplicateRows: number;
  largestPageRows: number;
  /** JSON list of the extra `/logs` Arrow columns its rows have had (`anomaly.<name>`, `shadow_data`), sorted. */
  logColumns: string;
  createdAt: number;
}

/** What add-edge stores. */
export type NewEdge = Pick<
  EdgeRecord,
  "id" | "name" | "workspaceId" | "pipelineUrl" | "tokenHash" | "tokenCreatedAt" | "createdAt"
>;

/** One uploaded log row, as stored (the edge's `/logs` row less its pipeline name). */
export interface HubLogRow {
  rowId: number;
  time: number;
  inJson: string;
  outJson: string;
  anomalyCount: number;
  pipelineVersion: string;
  lastModel: string;
  elapsedJson: string;
  droppedJson: string;
  partition: string;
  /** JSON object: validation name → failed (`{}` when the pipeline has none). */
  anomalyJson: string;
  /** JSON object: shadow model → its outputs (`{}` when none ran). */
  shadowJson: string;
}

/** What a check-in records. */
export interface CheckInRecord {
  status: string;
  pipelineInUse: string | null;
  backlogRows: number;
  evictedRows: number;
  now: number;
}

/** The edge columns a check-in sets (both stores' `edges` tables name them alike). */
export function checkInColumns(r: CheckInRecord) {
  const { status, pipelineInUse, backlogRows, evictedRows } = r;
  return { status, pipelineInUse, backlogRows, evictedRows, lastContact: r.now };
}

/** The outcome of storing one page. */
export interface IngestResult {
  storedRows: number;
  duplicateRows: number;
}

/** Filters of `POST /edges/{name}/logs`, as on the edge's `/logs`. */
export interface HubLogFilter {
  start?: number;
  end?: number;
  after?: number;
  limit?: number;
}

/** The hub's storage. */
export interface HubStore {
  /** `libsql` or `postgres`. */
  readonly kind: "libsql" | "postgres";
  /** Adds an edge; throws Conflict (`edge_exists`) if the name is taken. */
  addEdge(edge: NewEdge): Promise<void>;
  /** Removes an edge and its uploaded rows; false if there was none. */
  removeEdge(name: string): Promise<boolean>;
  /** Sets the pipeline assigned to an edge; false if there is no such edge. */
  setPipeline(name: string, pipelineUrl: string): Promise<boolean>;
  /** Every edge, by name. */
  edges(): Promise<EdgeRecord[]>;
  /** One edge by name. */
  edgeByName(name: string): Promise<EdgeRecord | undefined>;
  /**
   * Burns the edge's join token and binds `publicKey`, only if the token is
   * still unused (atomic across hub processes); false if it was used meanwhile.
   */
  bindKey(edgeId: string, key: { publicKey: string; thumbprint: string }, now: number): Promise<boolean>;
  /** Records a check-in (and the contact). */
  checkIn(edgeId: string, record: CheckInRecord): Promise<void>;
  /** Records that a token id was used; false if it was seen before (a replay). */
  claimTokenId(jti: string, expiresAt: number): Promise<boolean>;
  /** Forgets token ids that expired before `now`. */
  purgeTokenIds(now: number): Promise<void>;
  /** Stores a page's rows once each, counts the page and the contact, in one transaction. */
  ingest(edgeId: string, key: string, rows: HubLogRow[], now: number): Promise<IngestResult>;
  /** Up to `limit` rows of an edge with row id > `after` matching `filter`, in row id order. */
  readRows(edgeId: string, filter: HubLogFilter, after: number, limit: number): Promise<HubLogRow[]>;
  close(): Promise<void>;
}

/** An upload for an edge removed meanwhile: refused as Ops refuses any request of a removed edge. */
export function removedEdge(): NotFound {
  return new NotFound("the edge was removed from this Ops", "unknown_edge");
}

/** Rows per INSERT statement (well inside both databases' parameter limits). */
export const INSERT_CHUNK_ROWS = 1000;

/** Splits `rows` into INSERT-sized chunks. */
export function chunks<T>(rows: T[], size = INSERT_CHUNK_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
