/**
 * @module
 * Registry authentication: anonymous, Basic, and the Bearer token flow that
 * GHCR, Artifact Registry, Harbor and distribution's token auth use. A 401's
 * `WWW-Authenticate` challenge says which; Bearer tokens are fetched from its
 * realm (with Basic credentials when given) per scope and reused until they
 * expire. Passwords and tokens never appear in any message.
 */
import { RegistryError } from "./errors.ts";
import { printable } from "../errors.ts";

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== "basic" && scheme !== "bearer") return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
  }
  return { scheme, params };
}

/** Credentials for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** `Basic base64(user:password)`. */
export function basicHeader(c: Credentials): string {
  const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * Fetches a Bearer token for `scope` from the challenge's realm; throws with
 * the server's words (never the password). Credentials go only to an HTTPS
 * realm, or a plain-HTTP one `plainHttpRealm` accepts.
 */
export async function fetchToken(
  challenge: Challenge,
  scope: string,
  credentials: Credentials | undefined,
  fetcher: typeof fetch,
  plainHttpRealm: (realm: URL) => boolean,
  signal?: AbortSignal,
): Promise<{ token: string; expiresAt: number }> {
  const realm = challenge.params.realm;
  if (!realm) throw new RegistryError("the registry asked for a Bearer token but named no realm");
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new RegistryError(`the registry named a token realm that is not a URL: ${printable(realm)}`);
  }
  if (credentials && url.protocol !== "https:" && !plainHttpRealm(url)) {
    throw new RegistryError(`refusing to send credentials to the plain-HTTP token realm ${url.origin}`);
  }
  if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
  url.searchParams.set("scope", scope);
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = basicHeader(credentials);
  const res = await fetcher(url, { headers, signal });
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new AuthError(credentials);
  }
  if (!res.ok) {
    throw new RegistryError(
      `token server ${url.origin} answered ${res.status}: ${printable((await res.text()).slice(0, 200))}`,
      { status: res.status },
    );
  }
  // Not JSON: no token (below); a body cut off or timed out is thrown as is (retried by the client).
  const body = await res.json().catch((err) => {
    if (err instanceof SyntaxError) return {};
    throw err;
  }) as { token?: string; access_token?: string; expires_in?: number };
  const token = body.token ?? body.access_token;
  if (!token) throw new RegistryError(`token server ${url.origin} returned no token`);
  return { token, expiresAt: Date.now() + Math.max(30, (body.expires_in ?? 60) - 10) * 1000 };
}

/** The registry refused the credentials, needs some, or they lack the access asked for. */
export class AuthError extends Error {
  /** `withheld`: credentials are set but belong to another registry (named, or "" for none), so none were sent. */
  constructor(credentials: Credentials | undefined, registry?: string, missingAccess?: string, withheld?: string) {
    const where = registry ? `registry ${registry}` : "the registry";
    super(
      !credentials && withheld !== undefined
        ? `${where} requires a login; OCI_USERNAME and OCI_PASSWORD are set but ${
          withheld
            ? `belong to ${withheld} (OCI_REGISTRY, or the PIPELINE_URL tern starts with), so they are not sent here`
            : "name no registry (neither OCI_REGISTRY nor a PIPELINE_URL at start), so they are sent nowhere"
        }: if they are this registry's, set OCI_REGISTRY=${registry ?? "<host>"}`
        : !credentials
        ? `${where} requires a login: set OCI_USERNAME and OCI_PASSWORD`
        : missingAccess
        ? `${where} accepted user '${credentials.username}' but refused ${missingAccess} (no such repository, or no permission)`
        : `${where} refused the credentials of user '${credentials.username}' (check OCI_USERNAME and OCI_PASSWORD)`,
    );
    this.name = "AuthError";
  }
}
