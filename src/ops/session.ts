/**
 * @module
 * The edge's Ops session in PERSISTENT_VOLUME_DIR/ops-session.json (mode
 * 0600): its Ed25519 key pair (made here with WebCrypto; the private key never
 * leaves this file), the edge id Ops gave at join, the SHA-256 of the join
 * token it joined with (never the token: it tells a restart with the same
 * bundle from a new bundle) and its last contact with Ops. The keys are
 * written before the join is sent, so an edge whose join reply was lost
 * retries with the same key and Ops answers the join again.
 */
import { exportJWK, importJWK, type JWK } from "jose";
import type { EdgeBundle } from "./edge_bundle.ts";
import { SESSION_TTL_MS, TOKEN_ALG, tokenHash } from "./protocol.ts";

/** File name of the session inside PERSISTENT_VOLUME_DIR. */
export const SESSION_FILE = "ops-session.json";

/** What the session file holds. */
export interface OpsSession {
  version: 1;
  edgeName: string;
  /** OPSCENTER_HOST the session belongs to. */
  opsHost: string;
  /** Hex SHA-256 of the join token used. */
  tokenSha256: string;
  publicJwk: JWK;
  /** Secret: never printed, never sent. */
  privateJwk: JWK;
  /** Set by a successful join; null while the join is under way. */
  edgeId: string | null;
  joinedAt: number | null;
  /** Last successful request to Ops (edge clock, ms). */
  lastContact: number | null;
  /** Set when Ops answered session_expired (or unknown_edge): the session is of no further use. */
  refused?: string;
  /** The pipeline Ops assigned, once it served: a restart serves it (not the bundle's) before Ops is reached. */
  assignedPipelineUrl?: string;
  /**
   * Above every log row id sent to Ops under this session, kept ROW_ID_BLOCK ahead of them (one write per block):
   * a log started afresh under this session continues above it (rowIdsAfterNewLog), since Ops takes a row id it
   * has for a row it has.
   */
  rowIdsReserved?: number;
}

/** How far `rowIdsReserved` is kept ahead of the rows sent. */
export const ROW_ID_BLOCK = 1_000_000;

/**
 * Where a log with `nextRowId` must continue under `session`: `rowIdsReserved` when the log is behind the rows
 * sent to Ops (the log file was removed or replaced while the session stayed), else undefined. Rows sent are
 * at least `rowIdsReserved − ROW_ID_BLOCK` (it was set that far above a row sent), and the log that sent them
 * hands out only ids above them.
 */
export function rowIdsAfterNewLog(session: OpsSession, nextRowId: number): number | undefined {
  const reserved = session.rowIdsReserved;
  return reserved !== undefined && nextRowId <= reserved - ROW_ID_BLOCK ? reserved : undefined;
}

/** Whether `session` is the one `bundle` started (its edge, its Ops, its join token), not an earlier bundle's. */
export async function isSessionOf(session: OpsSession, bundle: EdgeBundle): Promise<boolean> {
  return session.edgeName === bundle.EDGE_NAME && session.opsHost === bundle.OPSCENTER_HOST &&
    session.tokenSha256 === await tokenHash(bundle.JOIN_TOKEN);
}

/** Path of the session file in `dir`. */
export function sessionPath(dir: string): string {
  return `${dir.replace(/\/+$/, "")}/${SESSION_FILE}`;
}

/** Reads the session in `dir`; undefined if there is none. A damaged file is an Error naming the file. */
export async function loadSession(dir: string): Promise<OpsSession | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(sessionPath(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  let session: OpsSession;
  try {
    session = JSON.parse(text);
  } catch {
    throw new Error(`${sessionPath(dir)} is damaged (not JSON): remove it and start with a new edge bundle`);
  }
  if (session?.version !== 1 || typeof session.edgeName !== "string" || !session.privateJwk?.d) {
    throw new Error(`${sessionPath(dir)} is not a tern Ops session: remove it and start with a new edge bundle`);
  }
  return session;
}

/** Writes the session atomically (temporary file, fsync, rename, folder fsync), readable by the owner only. */
export async function saveSession(dir: string, session: OpsSession): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const path = sessionPath(dir);
  const temp = `${path}.tmp`;
  const file = await Deno.open(temp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(session, null, 2) + "\n");
    for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
    await file.syncData();
  } finally {
    file.close();
  }
  await Deno.chmod(temp, 0o600);
  await Deno.rename(temp, path);
  // The rename itself is durable once the folder is synced (where the file system can: some network ones cannot).
  const folder = await Deno.open(dir).catch(() => undefined);
  await folder?.sync().catch(() => {});
  folder?.close();
}

/** A new Ed25519 key pair as JWKs. */
export async function newKeyPair(): Promise<{ publicJwk: JWK; privateJwk: JWK }> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
  return { publicJwk: await exportJWK(pair.publicKey), privateJwk: await exportJWK(pair.privateKey) };
}

/** A private key as jose imports it. */
export type SigningKey = Awaited<ReturnType<typeof importJWK>>;

/** The session's private key, for signing request tokens. */
export async function signingKey(session: OpsSession): Promise<SigningKey> {
  const key = await importJWK(session.privateJwk, TOKEN_ALG);
  if (ArrayBuffer.isView(key)) throw new Error("the session's private key is not an Ed25519 key");
  return key;
}

/** True when the session's last contact (edge clock) is over 7 days before `now`. */
export function sessionExpired(session: OpsSession, now: number): boolean {
  return session.lastContact !== null && now - session.lastContact > SESSION_TTL_MS;
}
