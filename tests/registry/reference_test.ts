import { formatReference, parseReference } from "../../src/registry/reference.ts";
import { isLoopbackHost } from "../../src/loopback.ts";
import { parseChallenge } from "../../src/registry/auth.ts";
import { assertEquals, assertThrows } from "../support/assert.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

Deno.test("references: host, repository, tag, digest; OCI_REGISTRY supplies a missing host", () => {
  assertEquals(parseReference("ghcr.io/acme/pipelines/edge-cv:bf70eaf7"), {
    registry: "ghcr.io",
    repository: "acme/pipelines/edge-cv",
    tag: "bf70eaf7",
    digest: undefined,
  });
  assertEquals(parseReference("localhost:5000/p@" + DIGEST).digest, DIGEST);
  assertEquals(parseReference("pipelines/p:v1", "us-docker.pkg.dev").registry, "us-docker.pkg.dev");
  assertEquals(parseReference("p:v1", "https://registry.example.com/").registry, "registry.example.com");
  assertEquals(formatReference(parseReference("127.0.0.1:5000/a/b:c")), "127.0.0.1:5000/a/b:c");
  assertEquals(formatReference(parseReference(`r.io/a:t@${DIGEST}`)), `r.io/a@${DIGEST}`);
});

Deno.test("references: what is refused, and why", () => {
  assertThrows(() => parseReference("pipelines/p:v1"), /names no registry host; .*set OCI_REGISTRY/);
  assertThrows(() => parseReference("r.io/Pipelines/P:v1"), /must be lower-case/);
  assertThrows(() => parseReference("r.io/p"), /neither a :tag nor an @sha256: digest/);
  assertThrows(() => parseReference("r.io/p@sha256:xyz"), /not sha256:<64 lower-case hex>/);
  assertThrows(() => parseReference("r.io/p:-bad"), /tag '-bad' is not valid/);
  assertThrows(
    () => parseReference("https://r.io/p:v1"),
    /'https:\/\/r\.io\/p:v1' is not an OCI reference: write it without https:\/\/ \(host\/repository:tag\)/,
  );
  assertThrows(() => parseReference("HTTP://r.io/p:v1"), /without http:\/\/ .*OCI_PLAIN_HTTP=true/);
  assertEquals(parseReference("oci://r.io/p:v1").registry, "r.io");
});

Deno.test("loopback hosts are reached over plain HTTP; others are not", () => {
  for (const host of ["localhost:5000", "127.0.0.1:5001", "127.3.2.1", "[::1]:5000"]) {
    assertEquals(isLoopbackHost(host), true);
  }
  for (const host of ["ghcr.io", "10.0.0.1:5000", "localhost.example.com"]) assertEquals(isLoopbackHost(host), false);
});

Deno.test("WWW-Authenticate challenges: Bearer with quoted params, Basic", () => {
  assertEquals(
    parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'),
    {
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull" },
    },
  );
  assertEquals(parseChallenge('Basic realm="tern"'), { scheme: "basic", params: { realm: "tern" } });
  assertEquals(parseChallenge("Negotiate abc"), undefined);
  assertEquals(parseChallenge(null), undefined);
});
