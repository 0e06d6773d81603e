/**
 * @module
 * How a request to Ops can fail, seen from the edge. OpsRefused: Ops answered
 * with a refusal (docs/ops-protocol.md, REFUSAL_CODES) after which this edge
 * cannot go on without a new edge bundle. OpsUnavailable: anything else
 * (unreachable, timed out, 5xx, a page Ops would not take): retried with
 * backoff. Neither message ever holds a token or key.
 */
import type { OpsErrorCode } from "./protocol.ts";

/** Ops refused this edge: a new edge bundle is needed. */
export class OpsRefused extends Error {
  /** The protocol's code, e.g. `join_token_used`. */
  readonly code: OpsErrorCode;
  constructor(message: string, code: OpsErrorCode) {
    super(message);
    this.name = "OpsRefused";
    this.code = code;
  }
}

/** Ops could not be reached or did not accept the request this time: retried. */
export class OpsUnavailable extends Error {
  /** The HTTP status Ops (or a proxy before it) answered with, when it answered. */
  readonly status?: number;
  /** The error code of Ops' JSON reply (docs/ops-protocol.md), absent when something else answered. */
  readonly code?: string;
  constructor(message: string, status?: number, code?: string) {
    super(message);
    this.name = "OpsUnavailable";
    this.status = status;
    this.code = code;
  }
}

/** What to do about a refusal, for the message that stops start-up. */
export function refusalAdvice(code: OpsErrorCode, edgeName: string): string {
  const why: Partial<Record<OpsErrorCode, string>> = {
    join_token_used: "the JOIN_TOKEN of this EDGE_BUNDLE was already used to join another installation",
    join_token_expired: "the JOIN_TOKEN of this EDGE_BUNDLE has expired (join tokens are valid for 24 hours)",
    join_token_invalid: `Ops knows no edge '${edgeName}' with the JOIN_TOKEN of this EDGE_BUNDLE`,
    session_expired: `the Ops session of edge '${edgeName}' expired: no contact with Ops for over 7 days`,
    unknown_edge: `Ops no longer knows edge '${edgeName}' (it was removed)`,
  };
  return `${why[code] ?? `Ops refused edge '${edgeName}' (${code})`}; ${NEW_BUNDLE_ADVICE}`;
}

/** What a refused edge needs: a new bundle. */
export const NEW_BUNDLE_ADVICE =
  "create a new edge bundle for this device (tern hub add-edge, or in Ops) and start tern with it";
