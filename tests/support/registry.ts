/**
 * @module
 * Debian's `docker-registry` (CNCF distribution 2.8) on an ephemeral loopback
 * port, as the real OCI registry for tests: anonymous, htpasswd Basic, or
 * token auth against tests/support/token_server.ts. Its storage folder is
 * exposed so tests can corrupt a stored blob.
 */
import { spawnForPort } from "./child_port.ts";
import { startTokenServer, type TokenServer } from "./token_server.ts";
import { requireSystemPackage } from "./system_packages.ts";

/** Auth modes. */
export type RegistryAuth = "none" | "basic" | "token";

/** The user and password every authenticated test registry accepts. */
export const REGISTRY_USER = { username: "robot", password: "s3cret-Pa55word" };

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** The filesystem storage root. */
  storage: string;
  /** Token auth: the token server's realm URL (undefined otherwise). */
  tokenRealm?: string;
  /** Tokens the token server issued (token auth; 0 otherwise). */
  tokensIssued(): number;
  /** Token auth: the token server goes on accepting requests but never answers another (see TokenServer.stall). */
  stallTokenServer(): void;
  /** Stops it (SIGTERM) and its token server; keeps nothing. Calling it again waits for the first stop. */
  stop(): Promise<void>;
}

/** True when Debian's docker-registry is installed (scripts/test.sh installs it). */
export function haveRegistry(): boolean {
  try {
    return Deno.statSync("/usr/bin/docker-registry").isFile;
  } catch {
    return false;
  }
}

/** Starts a registry with `auth`. */
export async function startRegistry(auth: RegistryAuth = "none"): Promise<TestRegistry> {
  await requireSystemPackage("docker-registry");
  if (auth === "basic") await requireSystemPackage("apache2-utils");
  const dir = await Deno.makeTempDir({ prefix: "tern-registry-" });
  let token: TokenServer | undefined;
  const lines = [
    "version: 0.1",
    "log: {level: info, accesslog: {disabled: true}}",
    `storage: {filesystem: {rootdirectory: ${dir}/data}, delete: {enabled: true}}`,
    "http: {addr: 127.0.0.1:0, secret: test-only}",
  ];
  if (auth === "basic") {
    const out = await new Deno.Command("htpasswd", {
      args: ["-Bbn", REGISTRY_USER.username, REGISTRY_USER.password],
      stdout: "piped",
    }).output();
    await Deno.writeFile(`${dir}/htpasswd`, out.stdout);
    lines.push(`auth: {htpasswd: {realm: tern-test, path: ${dir}/htpasswd}}`);
  } else if (auth === "token") {
    token = await startTokenServer(dir, REGISTRY_USER);
    lines.push(
      `auth: {token: {realm: ${token.realm}, service: ${token.service}, issuer: ${token.issuer}, rootcertbundle: ${token.certFile}}}`,
    );
  }
  await Deno.writeTextFile(`${dir}/config.yml`, lines.join("\n") + "\n");
  const { watched, port } = await spawnForPort(
    new Deno.Command("/usr/bin/docker-registry", {
      args: ["serve", `${dir}/config.yml`],
      stdout: "piped",
      stderr: "piped",
    }),
    /listening on 127\.0\.0\.1:(\d+)/,
    10_000,
  );
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await watched.stop();
      await token?.stop();
      await Deno.remove(dir, { recursive: true });
    })();
  if (port === undefined) {
    await stop();
    throw new Error(`docker-registry did not start:\n${watched.output()}`);
  }
  return {
    host: `127.0.0.1:${port}`,
    storage: `${dir}/data`,
    tokenRealm: token?.realm,
    tokensIssued: () => token?.issued() ?? 0,
    stallTokenServer: () => {
      if (!token) throw new Error("stallTokenServer: this registry does not use token auth");
      token.stall();
    },
    stop,
  };
}
