/**
 * @module
 * tern's pipeline artifact (docs/pipeline-artifact.md): an OCI image manifest
 * with `artifactType` application/vnd.tern.pipeline.v1, a JSON config blob
 * holding the pipeline spec, and one layer per model file. Parsing checks
 * every field tern later relies on, and refuses a layer tern cannot run (any
 * media type or runtime but ONNX's) before anything is fetched or cached;
 * nothing from a manifest is used as a path (blobs are stored by validated
 * digest only).
 */
import { printable } from "../errors.ts";
import { DIGEST } from "./reference.ts";

/** `artifactType` of a tern pipeline manifest. */
export const ARTIFACT_TYPE = "application/vnd.tern.pipeline.v1";
/** Media type of the config blob (the pipeline spec). */
export const CONFIG_MEDIA_TYPE = "application/vnd.tern.pipeline.config.v1+json";
/** Media type of an ONNX model layer: the only kind of layer tern runs. */
export const ONNX_LAYER_MEDIA_TYPE = "application/vnd.tern.model.onnx.v1";
/** The `ai.tern.model.runtime` of a layer tern runs (the default when a layer names none). */
export const ONNX_RUNTIME = "onnx";
/** OCI image manifest media type. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** OCI image index media type. */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

/** Layer annotations. */
export const ANNOTATION = {
  title: "org.opencontainers.image.title",
  modelName: "ai.tern.model.name",
  modelVersion: "ai.tern.model.version",
  runtime: "ai.tern.model.runtime",
  pipelineName: "ai.tern.pipeline.name",
  pipelineVersion: "ai.tern.pipeline.version",
} as const;

/** An OCI descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** A model layer as the manifest describes it. */
export interface ModelLayer {
  descriptor: Descriptor;
  name: string;
  version: string;
  runtime: string;
  filename: string;
}

/** A parsed, checked pipeline manifest. */
export interface PipelineManifest {
  config: Descriptor;
  models: ModelLayer[];
}

/** Names of pipelines and models: what Wallaroo allows, and safe anywhere. */
export const NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;
/** A UUID (pipeline and model versions). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads a manifest's bytes as a tern pipeline; throws naming the first thing wrong. */
export function parsePipelineManifest(bytes: Uint8Array): PipelineManifest {
  const m = parseJson(bytes, "manifest") as Record<string, unknown>;
  if (m.artifactType !== ARTIFACT_TYPE && (m.config as Descriptor | undefined)?.mediaType !== CONFIG_MEDIA_TYPE) {
    throw new Error(`not a tern pipeline: artifactType is ${JSON.stringify(m.artifactType)}, not ${ARTIFACT_TYPE}`);
  }
  const config = descriptor(m.config, "config");
  if (config.mediaType !== CONFIG_MEDIA_TYPE) {
    throw new Error(`config media type ${config.mediaType} is not ${CONFIG_MEDIA_TYPE}`);
  }
  if (!Array.isArray(m.layers) || m.layers.length === 0) throw new Error("the manifest has no model layers");
  const models = m.layers.map((l, i) => {
    const d = descriptor(l, `layer ${i}`);
    const a = d.annotations ?? {};
    const name = a[ANNOTATION.modelName];
    if (!name || !NAME.test(name)) throw new Error(`layer ${i}: model name ${JSON.stringify(name)} is not valid`);
    const version = a[ANNOTATION.modelVersion] ?? "";
    if (version && !UUID.test(version)) {
      throw new Error(`layer ${i}: model version ${JSON.stringify(version)} is not a UUID`);
    }
    const runtime = a[ANNOTATION.runtime] ?? ONNX_RUNTIME;
    if (d.mediaType !== ONNX_LAYER_MEDIA_TYPE || runtime !== ONNX_RUNTIME) {
      throw new Error(
        `layer ${i} (model ${name}) has media type ${printable(d.mediaType.slice(0, 200))} and runtime ${
          printable(runtime.slice(0, 200))
        }: tern runs only ${ONNX_LAYER_MEDIA_TYPE} layers of runtime ${ONNX_RUNTIME}`,
      );
    }
    return {
      descriptor: d,
      name,
      version,
      runtime,
      filename: a[ANNOTATION.title] ?? `${name}.onnx`,
    };
  });
  return { config, models };
}

/** Checks a descriptor: media type, `sha256:` digest, byte size. */
export function descriptor(value: unknown, what: string): Descriptor {
  const d = value as Partial<Descriptor> | undefined;
  if (!d || typeof d.mediaType !== "string") throw new Error(`${what}: no media type`);
  if (typeof d.digest !== "string" || !DIGEST.test(d.digest)) {
    throw new Error(`${what}: digest ${JSON.stringify(d.digest)} is not sha256:<hex>`);
  }
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new Error(`${what}: size is not a byte count`);
  }
  return d as Descriptor;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`the ${what} is not JSON`);
  }
}
