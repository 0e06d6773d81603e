/**
 * @module
 * `tern publish`: packs ONNX files and a pipeline spec into tern's artifact
 * (docs/pipeline-artifact.md), pushes it, and returns the PIPELINE_URL.
 *
 * A spec file (`pipeline.json`, or a folder holding one):
 * `{"name": "house-price", "version"?: "<uuid>", "steps": [{"model": "rf", "file": "rf.onnx", "version"?: "<uuid>"}]}`
 * (files relative to the spec). The short form gives `--name` and `--model FILE…`
 * (one step per file, named after it).
 */
import { basename, dirname, join } from "node:path";
import { ConfigError, errorText } from "../errors.ts";
import { uuidFromSha256 } from "../pipeline/spec.ts";
import {
  ANNOTATION,
  ARTIFACT_TYPE,
  CONFIG_MEDIA_TYPE,
  type Descriptor,
  NAME,
  OCI_MANIFEST,
  ONNX_LAYER_MEDIA_TYPE,
  UUID,
} from "./artifact.ts";
import { type RegistryClient, sha256Digest } from "./client.ts";
import { formatReference, type ImageReference } from "./reference.ts";

/** What to publish. */
export interface PublishSpec {
  name: string;
  version?: string;
  steps: { model: string; file: string; version?: string }[];
}

/** Reads a spec file (or `dir/pipeline.json`); step files become absolute. */
export async function readPublishSpec(path: string): Promise<PublishSpec> {
  const file = (await Deno.stat(path)).isDirectory ? join(path, "pipeline.json") : path;
  let spec: PublishSpec;
  try {
    spec = JSON.parse(await Deno.readTextFile(file));
  } catch (err) {
    throw new ConfigError(`${file}: ${errorText(err)}`);
  }
  if (!spec || !Array.isArray(spec.steps)) {
    throw new ConfigError(`${file}: expected {"name", "steps": [{"model", "file"}]}`);
  }
  return { ...spec, steps: spec.steps.map((s) => ({ ...s, file: join(dirname(file), s.file) })) };
}

/** The short form: one step per model file, named after the file. */
export function shortFormSpec(name: string, files: string[]): PublishSpec {
  return { name, steps: files.map((file) => ({ model: basename(file).replace(/\.onnx$/i, "").toLowerCase(), file })) };
}

/** Pushes the pipeline (its `version` set) under `ref`'s tag; returns its PIPELINE_URL and digest. */
export async function publishPipeline(
  client: RegistryClient,
  ref: ImageReference,
  spec: PublishSpec & { version: string },
): Promise<{ pipelineUrl: string; manifestDigest: string }> {
  if (!ref.tag) throw new ConfigError("tern publish needs a reference with a :tag");
  if (!NAME.test(spec.name)) throw new ConfigError(`pipeline name '${spec.name}' must match ${NAME.source}`);
  if (spec.steps.length === 0) throw new ConfigError("the pipeline has no steps (give --model FILE)");
  for (const v of [spec.version, ...spec.steps.map((s) => s.version)]) {
    if (v !== undefined && !UUID.test(v)) throw new ConfigError(`version '${v}' is not a UUID`);
  }
  const layers: Descriptor[] = [];
  const seen = new Set<string>();
  for (const step of spec.steps) {
    if (!NAME.test(step.model)) throw new ConfigError(`model name '${step.model}' must match ${NAME.source}`);
    if (seen.has(step.model)) continue;
    seen.add(step.model);
    const bytes = await Deno.readFile(step.file).catch((err) => {
      throw new ConfigError(`model file ${step.file}: ${err.message}`);
    });
    const digest = sha256Digest(bytes);
    await client.uploadBlob(ref.repository, digest, bytes);
    layers.push({
      mediaType: ONNX_LAYER_MEDIA_TYPE,
      digest,
      size: bytes.length,
      annotations: {
        [ANNOTATION.title]: basename(step.file),
        [ANNOTATION.modelName]: step.model,
        [ANNOTATION.modelVersion]: step.version ?? uuidFromSha256(digest.slice(7)),
        [ANNOTATION.runtime]: "onnx",
      },
    });
  }
  const version = spec.version!;
  const config = new TextEncoder().encode(
    JSON.stringify({ name: spec.name, version, steps: spec.steps.map((s) => ({ model: s.model })) }),
  );
  const configDigest = sha256Digest(config);
  await client.uploadBlob(ref.repository, configDigest, config);
  const manifest = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: ARTIFACT_TYPE,
    config: { mediaType: CONFIG_MEDIA_TYPE, digest: configDigest, size: config.length },
    layers,
    annotations: {
      [ANNOTATION.pipelineName]: spec.name,
      [ANNOTATION.pipelineVersion]: version,
      "org.opencontainers.image.created": new Date().toISOString(),
    },
  }));
  const tag = ref.tag!;
  const manifestDigest = await client.putManifest(ref.repository, tag, OCI_MANIFEST, manifest);
  return { pipelineUrl: formatReference({ ...ref, tag, digest: undefined }), manifestDigest };
}
