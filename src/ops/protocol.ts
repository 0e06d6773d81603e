/**
 * @module
 * The Ops protocol's wire types and constants, imported by both sides: the
 * edge (src/ops/) and `tern hub` (src/hub/). docs/ops-protocol.md is their
 * contract; change both together.
 */
import { isLoopbackHost } from "../loopback.ts";

/** The protocol version in every path (`/v1/…`). */
export const PROTOCOL_VERSION = 1;

/** Endpoint paths, relative to the base URL made from OPSCENTER_HOST. */
export const OPS_PATHS = {
  join: "/v1/join",
  checkin: "/v1/checkin",
  logs: "/v1/logs",
} as const;

/** What a request token's `op` claim names. */
export type OpsOperation = keyof typeof OPS_PATHS;

/** A join token is valid this long after `add-edge`. */
export const JOIN_TOKEN_TTL_MS = 24 * 3600 * 1000;
/** A session expires after this long without contact with Ops. */
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
/** Lifetime of a request token the edge signs (seconds). */
export const REQUEST_TOKEN_TTL_S = 120;
/** Longest request-token lifetime Ops accepts, and the clock skew it tolerates (seconds). */
export const TOKEN_TOLERANCE_S = 300;
/** The `aud` claim of every request token. */
export const TOKEN_AUDIENCE = "tern-ops/v1";
/** The signature algorithm of request tokens (Ed25519). */
export const TOKEN_ALG = "EdDSA";
/** Header carrying a log page's idempotency key. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** Media type of a log page: an Arrow IPC stream. */
export const LOG_PAGE_MEDIA_TYPE = "application/vnd.apache.arrow.stream";
/** Largest request body Ops accepts. */
export const MAX_OPS_BODY_BYTES = 64 * 2 ** 20;
/** Rows per upload page when PLATEAU_PAGE_SIZE is unset. */
export const DEFAULT_PAGE_ROWS = 1000;
/** Most rows one page may hold (the largest PLATEAU_PAGE_SIZE). */
export const MAX_PAGE_ROWS = 100_000;

/** Claims of a request token beyond the registered ones (iss, sub, aud, jti, iat, exp). */
export interface RequestClaims {
  /** The endpoint the token is for. */
  op: OpsOperation;
  /** base64url SHA-256 of the request body. */
  bsh: string;
}

/** `POST /v1/join` body. */
export interface JoinRequest {
  edge_name: string;
  join_token: string;
  workspace_id?: string;
  bundle_version?: string;
  tern_version: string;
}

/** `POST /v1/join` reply. */
export interface JoinReply {
  edge_id: string;
  edge_name: string;
  workspace_id: string;
  pipeline_url: string | null;
  session_ttl_s: number;
  server_time: number;
}

/** The pipeline states an edge reports. */
export type EdgeStatus = "Loading" | "Running" | "Error";

/** `POST /v1/checkin` body. */
export interface CheckInRequest {
  status: EdgeStatus;
  pipeline_name: string | null;
  pipeline_url: string | null;
  pipeline_version: string | null;
  backlog_rows: number;
  /** Rows the edge's storage cap evicted before Ops had them, since its log was created: rows Ops will never get. */
  evicted_rows: number;
  tern_version: string;
}

/** `POST /v1/checkin` reply. */
export interface CheckInReply {
  /** The pipeline Ops assigns this edge. */
  pipeline_url: string | null;
  session_expires_at: number;
  server_time: number;
}

/** `POST /v1/logs` reply. */
export interface UploadReply {
  first_id: number;
  last_id: number;
  rows: number;
  /** Rows new to Ops. */
  stored_rows: number;
  /** Rows Ops already held (a page sent again). */
  duplicate_rows: number;
}

/** Error codes of Ops replies (docs/ops-protocol.md, Errors). */
export type OpsErrorCode =
  | "bad_request"
  | "bad_page"
  | "join_token_invalid"
  | "join_token_used"
  | "join_token_expired"
  | "unauthorized"
  | "token_replayed"
  | "session_expired"
  | "unknown_edge"
  | "payload_too_large"
  | "not_found"
  | "unavailable"
  | "internal";

/** Codes after which the edge cannot go on without a new edge bundle. */
export const REFUSAL_CODES: readonly OpsErrorCode[] = [
  "join_token_invalid",
  "join_token_used",
  "join_token_expired",
  "session_expired",
  "unknown_edge",
];

/** An error reply's body. */
export interface OpsErrorBody {
  error: string;
  code: OpsErrorCode;
}

/** `<edge_id>:<first>-<last>`: the idempotency key of a page. */
export function pageKey(edgeId: string, firstId: number, lastId: number): string {
  return `${edgeId}:${firstId}-${lastId}`;
}

/**
 * The base URL of Ops from OPSCENTER_HOST (`host[:port][/path]`, optionally
 * with a scheme): HTTPS, or HTTP for a loopback host or with `plainHttp`.
 * Throws Error naming the problem (never a secret: the host is not one).
 */
export function opsBaseUrl(opscenterHost: string, plainHttp: boolean): URL {
  const text = opscenterHost.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  const rest = scheme ? text.slice(scheme.length + 3) : text;
  const hostPort = rest.split("/")[0];
  if (!hostPort) throw new Error(`OPSCENTER_HOST '${opscenterHost}' has no host`);
  const plainAllowed = plainHttp || isLoopbackHost(hostPort);
  if (scheme !== undefined && scheme !== "http" && scheme !== "https") {
    throw new Error(`OPSCENTER_HOST '${opscenterHost}' must be host[:port][/path], or start with https://`);
  }
  if (scheme === "http" && !plainAllowed) {
    throw new Error(
      `OPSCENTER_HOST '${opscenterHost}' is plain HTTP to a non-loopback host: use https, or set OPS_PLAIN_HTTP=true`,
    );
  }
  const use = scheme ?? (plainAllowed ? "http" : "https");
  let url: URL;
  try {
    url = new URL(`${use}://${rest}`);
  } catch {
    throw new Error(`OPSCENTER_HOST '${opscenterHost}' is not a host[:port][/path]`);
  }
  url.pathname = url.pathname.replace(/\/+$/, "");
  url.search = url.hash = "";
  return url;
}

/** The URL of `op` under `base` (a path in the base is kept as a prefix). */
export function opsUrl(base: URL, op: OpsOperation): string {
  return `${base.origin}${base.pathname.replace(/\/+$/, "")}${OPS_PATHS[op]}`;
}

/** base64url (no padding) SHA-256 of `body`: a request token's `bsh` claim. */
export async function bodyHash(body: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>));
  return base64Url(digest);
}

/** base64url without padding. */
export function base64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Hex SHA-256 of a join token: what the hub stores and the edge's session remembers (never the token). */
export async function tokenHash(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
