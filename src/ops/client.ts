/**
 * @module
 * The edge's HTTP client of Ops (docs/ops-protocol.md): join, check-in and log
 * upload, each signed with the session's key (request_token.ts). `fetch` and
 * the clock are passed in, so tests drive the real hub in-process or over
 * HTTP. Every failure is an OpsRefused (a new bundle is needed) or an
 * OpsUnavailable (retry); messages name the host and Ops' answer, never a
 * token.
 */
import type { JWK } from "jose";
import { OpsRefused, OpsUnavailable } from "./errors.ts";
import type { UploadPage } from "./page.ts";
import {
  type CheckInReply,
  type CheckInRequest,
  IDEMPOTENCY_KEY_HEADER,
  type JoinReply,
  type JoinRequest,
  LOG_PAGE_MEDIA_TYPE,
  type OpsErrorBody,
  type OpsOperation,
  opsUrl,
  pageKey,
  REFUSAL_CODES,
  type UploadReply,
} from "./protocol.ts";
import { signRequestToken } from "./request_token.ts";
import type { SigningKey } from "./session.ts";

/** A request to Ops may take this long before it is given up (and retried). */
export const OPS_REQUEST_TIMEOUT_MS = 30_000;

/** What the client needs. */
export interface OpsClientOptions {
  /** From opsBaseUrl(OPSCENTER_HOST). */
  base: URL;
  edgeName: string;
  fetch: typeof fetch;
  /** Wall clock, ms (request tokens' iat). */
  now: () => number;
  timeoutMs?: number;
  /** Aborts requests in flight (tern stopping). */
  signal?: AbortSignal;
}

/** The signing side of a session. */
export interface EdgeKey {
  key: SigningKey;
  publicJwk: JWK;
}

/** Talks to one Ops. */
export class OpsClient {
  readonly #o: OpsClientOptions;

  constructor(options: OpsClientOptions) {
    this.#o = options;
  }

  /** Joins with the bundle's token, proving possession of `key`. */
  async join(key: EdgeKey, request: JoinRequest): Promise<JoinReply> {
    const body = new TextEncoder().encode(JSON.stringify(request));
    return await this.#post("join", key, body, "application/json", {}, true) as JoinReply;
  }

  /** Checks in. */
  async checkIn(key: EdgeKey, request: CheckInRequest): Promise<CheckInReply> {
    const body = new TextEncoder().encode(JSON.stringify(request));
    return await this.#post("checkin", key, body, "application/json", {}) as CheckInReply;
  }

  /** Uploads one page (page.ts, built by the log's reading worker). */
  async upload(key: EdgeKey, edgeId: string, page: UploadPage): Promise<UploadReply> {
    const idempotencyKey = pageKey(edgeId, page.firstId, page.lastId);
    return await this.#post("logs", key, page.body, LOG_PAGE_MEDIA_TYPE, {
      [IDEMPOTENCY_KEY_HEADER]: idempotencyKey,
    }) as UploadReply;
  }

  async #post(
    op: OpsOperation,
    key: EdgeKey,
    body: Uint8Array,
    contentType: string,
    headers: Record<string, string>,
    withPublicKey = false,
  ): Promise<unknown> {
    const url = opsUrl(this.#o.base, op);
    const token = await signRequestToken({
      edgeName: this.#o.edgeName,
      key: key.key,
      op,
      body,
      nowMs: this.#o.now(),
      publicJwk: withPublicKey ? key.publicJwk : undefined,
    });
    const timeout = AbortSignal.timeout(this.#o.timeoutMs ?? OPS_REQUEST_TIMEOUT_MS);
    let res: Response;
    try {
      res = await this.#o.fetch(url, {
        method: "POST",
        headers: { ...headers, "content-type": contentType, authorization: `Bearer ${token}` },
        body: body as Uint8Array<ArrayBuffer>,
        signal: this.#o.signal ? AbortSignal.any([this.#o.signal, timeout]) : timeout,
      });
    } catch (err) {
      const why = timeout.aborted ? `no answer within ${(this.#o.timeoutMs ?? OPS_REQUEST_TIMEOUT_MS) / 1000} s` : (
        err instanceof Error ? err.message : String(err)
      );
      throw new OpsUnavailable(`cannot reach Ops at ${this.#o.base.host}: ${why}`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new OpsUnavailable(`Ops at ${this.#o.base.host} cut its answer short: ${(err as Error).message}`);
    }
    if (res.ok) {
      try {
        return JSON.parse(text);
      } catch {
        throw new OpsUnavailable(`Ops at ${this.#o.base.host} answered ${op} with something other than JSON`);
      }
    }
    let error: Partial<OpsErrorBody> = {};
    try {
      error = JSON.parse(text);
    } catch { /* not ours: a proxy's page */ }
    if (error.code && REFUSAL_CODES.includes(error.code)) {
      throw new OpsRefused(error.error ?? error.code, error.code);
    }
    const what = error.code ? `${error.code}: ${error.error}` : text.slice(0, 200).trim();
    throw new OpsUnavailable(
      `Ops at ${this.#o.base.host} answered ${op} with ${res.status} (${what})`,
      res.status,
      typeof error.code === "string" ? error.code : undefined,
    );
  }
}
