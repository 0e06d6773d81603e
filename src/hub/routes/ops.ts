/**
 * @module
 * The edge-facing endpoints of docs/ops-protocol.md: `POST /v1/join`,
 * `POST /v1/checkin`, `POST /v1/logs`. Each checks the request token
 * (auth.ts) and leaves every cross-process rule to the database (store.ts).
 */
import { Hono } from "hono";
import { BadInput, Conflict, Gone, Unauthorized } from "../../errors.ts";
import {
  type CheckInReply,
  type EdgeStatus,
  IDEMPOTENCY_KEY_HEADER,
  JOIN_TOKEN_TTL_MS,
  type JoinReply,
  MAX_OPS_BODY_BYTES,
  OPS_PATHS,
  SESSION_TTL_MS,
  tokenHash,
  type UploadReply,
} from "../../ops/protocol.ts";
import { bearerToken, joinKeyThumbprint, jsonBody, verifyJoin, verifyRequest } from "../auth.ts";
import { readBody } from "../body.ts";
import { decodePage } from "../page.ts";
import type { HubStore } from "../store.ts";

/** What the routes need. */
export interface OpsRouteDeps {
  store: HubStore;
  /** The hub's clock, ms. */
  now: () => number;
  /** One line per join (the hub's log; check-ins and pages are not logged). */
  log: (line: string) => void;
}

const STATUSES: readonly EdgeStatus[] = ["Loading", "Running", "Error"];

/** Join and check-in bodies are a few short fields: more is refused before it is held (64 KiB). */
const MAX_SMALL_BODY_BYTES = 64 * 2 ** 10;

/** The longest pipeline reference a check-in may report (an OCI reference is far shorter). */
const MAX_REFERENCE_LENGTH = 2048;

/** The three endpoints. */
export function opsRoutes({ store, now, log }: OpsRouteDeps): Hono {
  return new Hono()
    .post(OPS_PATHS.join, async (c) => {
      const body = await readBody(c.req.raw, MAX_SMALL_BODY_BYTES);
      const request = jsonBody(body);
      const name = text(request, "edge_name");
      const joinToken = text(request, "join_token");
      const token = bearerToken(c.req.header("authorization"));
      const edge = await store.edgeByName(name);
      const invalid = () =>
        new Unauthorized(`this Ops knows no edge '${name}' with that join token`, "join_token_invalid");
      if (!edge) throw invalid();
      if (!timingSafeEqual(await tokenHash(joinToken), edge.tokenHash)) throw invalid();
      const t = now();
      const thumbprint = await joinKeyThumbprint(token);
      if (edge.tokenUsedAt !== null && edge.keyThumbprint !== thumbprint) throw used(name, edge.tokenUsedAt);
      if (edge.tokenUsedAt === null && t - edge.tokenCreatedAt > JOIN_TOKEN_TTL_MS) {
        throw new Gone(
          `the join token of edge '${name}' expired at ${
            new Date(edge.tokenCreatedAt + JOIN_TOKEN_TTL_MS).toISOString()
          } (join tokens are valid for 24 hours)`,
          "join_token_expired",
        );
      }
      const proof = await verifyJoin(store, token, name, body, t);
      if (edge.tokenUsedAt === null) {
        const bound = await store.bindKey(edge.id, {
          publicKey: JSON.stringify(proof.publicJwk),
          thumbprint: proof.thumbprint,
        }, t);
        if (!bound) {
          // Another hub process took the token meanwhile: only the same key may be answered again.
          const now = await store.edgeByName(name);
          if (now?.keyThumbprint !== proof.thumbprint) throw used(name, now?.tokenUsedAt ?? t);
        }
        log(`edge '${name}' joined (key ${proof.thumbprint.slice(0, 12)}…)`);
      } else {
        log(`edge '${name}' asked to join again with its own key: answered again`);
      }
      const reply: JoinReply = {
        edge_id: edge.id,
        edge_name: edge.name,
        workspace_id: edge.workspaceId,
        pipeline_url: edge.pipelineUrl,
        session_ttl_s: SESSION_TTL_MS / 1000,
        server_time: t,
      };
      return c.json(reply);
    })
    .post(OPS_PATHS.checkin, async (c) => {
      const t = now();
      const { edge, body } = await verifyRequest(
        store,
        c.req.header("authorization"),
        "checkin",
        () => readBody(c.req.raw, MAX_SMALL_BODY_BYTES),
        t,
      );
      const request = jsonBody(body);
      const status = text(request, "status") as EdgeStatus;
      if (!STATUSES.includes(status)) {
        throw new BadInput(`'status' must be one of ${STATUSES.join(", ")}`, "bad_request");
      }
      const count = (name: string, value: unknown = request[name]) => {
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
          throw new BadInput(`'${name}' must be a whole number ≥ 0`, "bad_request");
        }
        return value;
      };
      const backlogRows = count("backlog_rows");
      const evictedRows = count("evicted_rows", request.evicted_rows ?? 0); // absent from edges before it was counted
      const pipelineInUse = typeof request.pipeline_url === "string" ? request.pipeline_url : null;
      if (pipelineInUse !== null && pipelineInUse.length > MAX_REFERENCE_LENGTH) {
        throw new BadInput(`'pipeline_url' is longer than ${MAX_REFERENCE_LENGTH} characters`, "bad_request");
      }
      await store.checkIn(edge.id, { status, pipelineInUse, backlogRows, evictedRows, now: t });
      const reply: CheckInReply = {
        pipeline_url: edge.pipelineUrl,
        session_expires_at: t + SESSION_TTL_MS,
        server_time: t,
      };
      return c.json(reply);
    })
    .post(OPS_PATHS.logs, async (c) => {
      const t = now();
      const { edge, body } = await verifyRequest(
        store,
        c.req.header("authorization"),
        "logs",
        () => readBody(c.req.raw, MAX_OPS_BODY_BYTES),
        t,
      );
      const key = c.req.header(IDEMPOTENCY_KEY_HEADER);
      const rows = decodePage(body, edge.id, edge.name, key);
      const result = await store.ingest(edge.id, key!, rows, t);
      const reply: UploadReply = {
        first_id: rows[0].rowId,
        last_id: rows[rows.length - 1].rowId,
        rows: rows.length,
        stored_rows: result.storedRows,
        duplicate_rows: result.duplicateRows,
      };
      return c.json(reply);
    });
}

function used(name: string, at: number): Conflict {
  return new Conflict(
    `the join token of edge '${name}' was already used (${new Date(at).toISOString()}) by another installation`,
    "join_token_used",
  );
}

function text(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== "string" || v === "") throw new BadInput(`'${key}' must be a non-empty string`, "bad_request");
  return v;
}

/** Compares two hex digests in time independent of where they differ. */
function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
