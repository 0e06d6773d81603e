/**
 * @module
 * API_TOKEN (edge) and HUB_API_TOKEN (hub): an optional bearer token that every
 * request must carry (`Authorization: Bearer <token>`), except the health
 * checks and the routes that authenticate themselves (the hub's Ops protocol).
 * The comparison is constant-time: both sides are hashed with SHA-256 and the
 * digests compared with `timingSafeEqual`, so neither the token's content nor
 * its length shows in how long a refusal takes. A refusal is a 401
 * `api_token_required` through the one error mapping (error_response.ts).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { Unauthorized } from "../errors.ts";

/** The code of a request refused for want of the API token. */
const API_TOKEN_CODE = "api_token_required";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** True when `given` (the Authorization header, or undefined) carries the token of digest `tokenDigest`. */
function carriesToken(given: string | undefined, tokenDigest: Uint8Array): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(given ?? "");
  // Hashing an empty string when the header is absent keeps the work the same as for a wrong token.
  return timingSafeEqual(digest(m ? m[1] : ""), tokenDigest) && m !== null;
}

/** Middleware refusing every request without the token, except those whose path `open` accepts. */
export function apiTokenGuard(token: string, open: (path: string) => boolean): MiddlewareHandler {
  const tokenDigest = digest(token); // the token is fixed at start-up: hashed once
  return async (c, next) => {
    if (!open(c.req.path) && !carriesToken(c.req.header("authorization"), tokenDigest)) {
      throw new Unauthorized(
        `${c.req.path} needs 'Authorization: Bearer <API token>' (this server is configured with an API token)`,
        API_TOKEN_CODE,
        { "www-authenticate": 'Bearer realm="tern"' },
      );
    }
    await next();
  };
}

/** The edge's paths open without the token: liveness and readiness checks (tern's own and V2's). */
export function isHealthPath(path: string): boolean {
  return /^\/health(\/ready)?\/?$/.test(path) || /^\/v2\/health\/(live|ready)\/?$/.test(path);
}
