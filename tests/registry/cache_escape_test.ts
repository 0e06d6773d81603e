/**
 * Artifact names that try to escape the pipeline cache are refused: only a
 * validated sha256 digest ever becomes a path (blobs), a reference becomes the
 * hash of itself (refs), and a manifest whose layer digest or model name holds
 * `..`, `/` or other path syntax is refused before anything is fetched.
 */
import { ArtifactCache } from "../../src/registry/cache.ts";
import {
  ANNOTATION,
  ARTIFACT_TYPE,
  CONFIG_MEDIA_TYPE,
  ONNX_LAYER_MEDIA_TYPE,
  parsePipelineManifest,
} from "../../src/registry/artifact.ts";
import { assert, assertThrows } from "../support/assert.ts";

const HEX = "a".repeat(64);
const ESCAPES = ["../../etc/passwd", "/etc/passwd", "..", "a/../../b", "a\u0000b", "%2e%2e%2fx", "A/..\\x"];

Deno.test("a digest that is not sha256:<64 hex> never becomes a cache path", () => {
  const cache = new ArtifactCache("/tmp/tern-cache-escape");
  assert(cache.blobPath(`sha256:${HEX}`).startsWith("/tmp/tern-cache-escape/oci/blobs/sha256/"));
  for (const bad of ESCAPES.flatMap((e) => [`sha256:${e}`, `sha256:${HEX}/${e}`, e])) {
    assertThrows(() => cache.blobPath(bad), /malformed digest/);
  }
});

Deno.test("a manifest whose layer digest or model name holds path syntax is refused", () => {
  const manifest = (digest: string, name: string) =>
    new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      artifactType: ARTIFACT_TYPE,
      config: { mediaType: CONFIG_MEDIA_TYPE, digest: `sha256:${HEX}`, size: 2 },
      layers: [{ mediaType: ONNX_LAYER_MEDIA_TYPE, digest, size: 1, annotations: { [ANNOTATION.modelName]: name } }],
    }));
  parsePipelineManifest(manifest(`sha256:${HEX}`, "model-1"));
  for (const bad of ESCAPES) {
    assertThrows(() => parsePipelineManifest(manifest(`sha256:${bad}`, "model-1")), /digest/);
    assertThrows(() => parsePipelineManifest(manifest(`sha256:${HEX}`, bad)), /model name/);
  }
});
