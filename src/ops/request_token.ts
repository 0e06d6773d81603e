/**
 * @module
 * The short-lived request token every request to Ops carries
 * (docs/ops-protocol.md, Request tokens): a JWT signed with the edge's
 * Ed25519 key through `jose`, bound to one endpoint and one body, valid two
 * minutes and usable once. The join's token also carries the public key.
 */
import { type JWK, SignJWT } from "jose";
import {
  bodyHash,
  type OpsOperation,
  REQUEST_TOKEN_TTL_S,
  type RequestClaims,
  TOKEN_ALG,
  TOKEN_AUDIENCE,
} from "./protocol.ts";
import type { SigningKey } from "./session.ts";

/** Signs a token for `op` with this `body`; `publicJwk` only for the join. */
export async function signRequestToken(options: {
  edgeName: string;
  key: SigningKey;
  op: OpsOperation;
  body: Uint8Array;
  nowMs: number;
  publicJwk?: JWK;
}): Promise<string> {
  const iat = Math.floor(options.nowMs / 1000);
  const claims: RequestClaims = { op: options.op, bsh: await bodyHash(options.body) };
  return await new SignJWT({ ...claims })
    .setProtectedHeader({
      alg: TOKEN_ALG,
      typ: "JWT",
      ...(options.publicJwk
        ? { jwk: { kty: options.publicJwk.kty, crv: options.publicJwk.crv, x: options.publicJwk.x } }
        : {}),
    })
    .setIssuer(options.edgeName)
    .setSubject(options.edgeName)
    .setAudience(TOKEN_AUDIENCE)
    .setJti(crypto.randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + REQUEST_TOKEN_TTL_S)
    .sign(options.key);
}
