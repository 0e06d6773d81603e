/**
 * @module
 * A small token server for distribution's token auth, as GHCR or Harbor run
 * one: it checks Basic credentials and answers `{token, access_token,
 * expires_in, issued_at}` with an ES256 JWT that docker-registry 2.8 accepts
 * (header `kid` = libtrust key id of the signing key, whose self-signed
 * certificate is the registry's rootcertbundle; `aud` = service; `access`
 * claim granting what the scope asked for).
 */
import { requireSystemPackage } from "./system_packages.ts";

/** A running token server. */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Token requests answered so far. */
  issued(): number;
  /** From now on, accepts token requests and never answers them (until stop), like a hung token service. */
  stall(): void;
  stop(): Promise<void>;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const text = (s: string) => new TextEncoder().encode(s);

/** libtrust key id: base32 of the first 30 bytes of sha256(SPKI DER), in 12 groups of 4 joined by ':'. */
export async function libtrustKeyId(spki: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki as Uint8Array<ArrayBuffer>)).slice(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const b of digest) bits += b.toString(2).padStart(8, "0");
  let out = "";
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return out.match(/.{4}/g)!.join(":");
}

/** Starts the token server; keys and certificate go into `dir`. */
export async function startTokenServer(
  dir: string,
  user: { username: string; password: string },
): Promise<TokenServer> {
  await requireSystemPackage("openssl");
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pem = `-----BEGIN PRIVATE KEY-----\n${
    btoa(String.fromCharCode(...pkcs8)).match(/.{1,64}/g)!.join("\n")
  }\n-----END PRIVATE KEY-----\n`;
  await Deno.writeTextFile(`${dir}/token-key.pem`, pem);
  const certFile = `${dir}/token-cert.pem`;
  const openssl = await new Deno.Command("openssl", {
    args: [
      "req",
      "-new",
      "-x509",
      "-key",
      `${dir}/token-key.pem`,
      "-subj",
      "/CN=tern-test-token",
      "-days",
      "1",
      "-out",
      certFile,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!openssl.success) throw new Error(`openssl: ${new TextDecoder().decode(openssl.stderr)}`);
  const kid = await libtrustKeyId(spki);
  const service = "tern-test-registry";
  const issuer = "tern-test-token-issuer";
  const expected = `Basic ${btoa(`${user.username}:${user.password}`)}`;
  let issued = 0;
  let stalled = false;
  const held: (() => void)[] = [];

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (stalled) {
      await new Promise<void>((release) => held.push(release));
      return new Response("stopped", { status: 503 });
    }
    const url = new URL(req.url);
    if (url.pathname !== "/token") return new Response("not found", { status: 404 });
    if (req.headers.get("authorization") !== expected) {
      return Response.json({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }, { status: 401 });
    }
    const access = url.searchParams.getAll("scope").flatMap((scope) => {
      const [type, name, actions] = scope.split(":");
      return type === "repository" ? [{ type, name, actions: actions.split(",") }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(text(JSON.stringify({ alg: "ES256", typ: "JWT", kid })));
    const claims = b64url(text(JSON.stringify({
      iss: issuer,
      sub: user.username,
      aud: url.searchParams.get("service") ?? service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    })));
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, text(`${header}.${claims}`)),
    );
    const token = `${header}.${claims}.${b64url(signature)}`;
    issued++;
    return Response.json({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    issued: () => issued,
    stall: () => stalled = true,
    stop: () => {
      stalled = false;
      for (const release of held.splice(0)) release();
      return server.shutdown();
    },
  };
}
