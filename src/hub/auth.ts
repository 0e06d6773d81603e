/**
 * @module
 * The hub's side of attestation (docs/ops-protocol.md, Request tokens): every
 * request's token is checked with `jose` against the key the edge bound at
 * join, for this endpoint and this body, within its lifetime on the hub's
 * clock, and once only (its `jti` is claimed in the database, so a replay to
 * another hub process is refused too). The join's token is checked against
 * the public key it carries, which proves the joining edge holds the private
 * key.
 */
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  EmbeddedJWK,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from "jose";
import { BadInput, Forbidden, NotFound, Unauthorized } from "../errors.ts";
import {
  bodyHash,
  type OpsOperation,
  SESSION_TTL_MS,
  TOKEN_ALG,
  TOKEN_AUDIENCE,
  TOKEN_TOLERANCE_S,
} from "../ops/protocol.ts";
import type { EdgeRecord, HubStore } from "./store.ts";

/** The bearer token of a request, or Unauthorized. */
export function bearerToken(header: string | undefined): string {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!m) throw new Unauthorized("this request needs 'Authorization: Bearer <token signed by the edge's key>'");
  return m[1];
}

/** jwtVerify's options for a request token on the hub's clock. */
function verifyOptions(nowMs: number, edgeName?: string) {
  return {
    algorithms: [TOKEN_ALG],
    audience: TOKEN_AUDIENCE,
    issuer: edgeName,
    subject: edgeName,
    currentDate: new Date(nowMs),
    clockTolerance: TOKEN_TOLERANCE_S,
    maxTokenAge: TOKEN_TOLERANCE_S,
    requiredClaims: ["jti", "iat", "exp", "op", "bsh"],
  };
}

/**
 * A verified token's lifetime (`exp − iat`): at most TOKEN_TOLERANCE_S (docs/ops-protocol.md), so that its `jti` is
 * kept for minutes, not for as long as a signer chose.
 */
function checkLifetime(payload: JWTPayload): void {
  const lifetime = Number(payload.exp) - Number(payload.iat);
  if (!(lifetime <= TOKEN_TOLERANCE_S)) {
    throw new Unauthorized(
      `the request token is valid for ${lifetime} s (exp − iat); Ops takes tokens valid for at most ` +
        `${TOKEN_TOLERANCE_S} s`,
    );
  }
}

/** Checks the claims jose leaves to us: endpoint and body. */
async function checkBinding(payload: JWTPayload, op: OpsOperation, body: Uint8Array): Promise<void> {
  if (payload.op !== op) throw new Unauthorized(`the request token is for '${String(payload.op)}', not '${op}'`);
  if (payload.bsh !== await bodyHash(body)) {
    throw new Unauthorized("the request token was signed for another body");
  }
}

/** Claims the token's id in the database: a second use anywhere is refused. */
async function claimOnce(store: HubStore, payload: JWTPayload): Promise<void> {
  const expiresAt = ((payload.exp ?? 0) + TOKEN_TOLERANCE_S) * 1000;
  if (!await store.claimTokenId(String(payload.jti), expiresAt)) {
    throw new Unauthorized("this request token was used before (a replay)", "token_replayed");
  }
}

/** A verified join: the public key the edge proved it holds. */
export interface JoinProof {
  publicJwk: JWK;
  thumbprint: string;
}

/** The thumbprint of the key in a join token's header (unverified; for telling a retry from another install). */
export async function joinKeyThumbprint(token: string): Promise<string> {
  let jwk: JWK | undefined;
  try {
    jwk = decodeProtectedHeader(token).jwk;
  } catch {
    throw new Unauthorized("the join request's token is not a JWT");
  }
  if (!jwk || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string" || "d" in jwk) {
    throw new Unauthorized("the join request's token must carry the edge's Ed25519 public key (header 'jwk')");
  }
  return await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
}

/** Verifies a join token (signature by its own embedded key, claims, body) and claims its id. */
export async function verifyJoin(
  store: HubStore,
  token: string,
  edgeName: string,
  body: Uint8Array,
  nowMs: number,
): Promise<JoinProof> {
  const thumbprint = await joinKeyThumbprint(token);
  let payload: JWTPayload;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(token, EmbeddedJWK, verifyOptions(nowMs, edgeName));
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk!;
  } catch (err) {
    throw new Unauthorized(`the join request's token does not verify: ${(err as Error).message}`);
  }
  checkLifetime(payload);
  await checkBinding(payload, "join", body);
  await claimOnce(store, payload);
  return { publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, thumbprint };
}

/** A public key as jose imports it. */
type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

/** Imported public keys by thumbprint (a key never changes under its thumbprint). */
const keys = new Map<string, VerifyKey>();

/** Imports (and caches) an edge's public key. */
async function importKey(thumbprint: string, publicKey: string): Promise<VerifyKey> {
  const key = await importJWK(JSON.parse(publicKey), TOKEN_ALG);
  if (ArrayBuffer.isView(key)) throw new Unauthorized("the edge's stored key is not an Ed25519 public key");
  if (keys.size > 10_000) keys.clear();
  keys.set(thumbprint, key);
  return key;
}

/**
 * Authenticates a check-in or upload: the edge named by the token, joined,
 * within 7 days of its last contact, and the token verified, bound to the body
 * and unused. The body is read (`readBody`) only once the token's signature
 * holds, so no stranger makes the hub hold a large one. Returns the edge and
 * the body.
 */
export async function verifyRequest(
  store: HubStore,
  header: string | undefined,
  op: OpsOperation,
  readBody: () => Promise<Uint8Array>,
  nowMs: number,
): Promise<{ edge: EdgeRecord; body: Uint8Array }> {
  const token = bearerToken(header);
  let sub: string | undefined;
  try {
    sub = decodeJwt(token).sub;
  } catch {
    throw new Unauthorized("the request token is not a JWT");
  }
  if (!sub) throw new Unauthorized("the request token names no edge (sub)");
  const edge = await store.edgeByName(sub);
  if (!edge) throw new NotFound(`no edge named '${sub}' is registered with this Ops`, "unknown_edge");
  // Only a joined edge checks in or uploads: a request for one that has not means the edge it joined as was removed
  // (and its name added again), so that install is refused as a removed edge is, rather than retrying forever.
  if (!edge.publicKey || !edge.keyThumbprint) {
    throw new NotFound(
      `edge '${sub}' has not joined this Ops since it was added (the edge this install joined as was removed)`,
      "unknown_edge",
    );
  }
  // Expiry before the token's times: an edge back after 7 days hears why, not that its token is stale.
  if (edge.lastContact !== null && nowMs - edge.lastContact > SESSION_TTL_MS) {
    throw new Forbidden(
      `the session of edge '${sub}' expired: its last contact was ${new Date(edge.lastContact).toISOString()}, ` +
        "over 7 days ago",
      "session_expired",
    );
  }
  const key = keys.get(edge.keyThumbprint) ?? await importKey(edge.keyThumbprint, edge.publicKey);
  let payload: JWTPayload;
  try {
    payload = (await jwtVerify(token, key, verifyOptions(nowMs, edge.name))).payload;
  } catch (err) {
    throw new Unauthorized(`the request token does not verify: ${(err as Error).message}`);
  }
  checkLifetime(payload);
  const body = await readBody();
  await checkBinding(payload, op, body);
  await claimOnce(store, payload);
  return { edge, body };
}

/** Parses a JSON body into an object, or BadInput (`bad_request`). */
export function jsonBody(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (err) {
    throw new BadInput(`the body is not JSON: ${(err as Error).message}`, "bad_request");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new BadInput("the body must be a JSON object", "bad_request");
  }
  return value as Record<string, unknown>;
}
