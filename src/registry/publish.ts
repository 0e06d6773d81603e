/**
 * @module
 * `tern publish`: packs ONNX files and a pipeline spec into tern's artifact
 * (docs/pipeline-artifact.md), pushes it, and returns the PIPELINE_URL.
 *
 * A spec file (`pipeline.json`, or a folder holding one):
 * `{"name": "house-price", "version"?: "<uuid>", "steps": [{"model": "rf", "file": "rf.onnx", "version"?: "<uuid>"}]}`
 * (files relative to the spec); a step may also give `inputs`, `shadows`
 * (`[{"model", "file"}]`) or, instead of its model, a `split`
 * (`{"key"?, "variants": [{"model", "file", "weight"?}]}`), and the pipeline
 * `validations` (`{"name": "expression"}`): the config blob then holds them
 * with model names only (docs/pipeline-artifact.md). The short form gives
 * `--name` and `--model FILE…` (one step per file, named after it).
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
import { notOnnx } from "./onnx_check.ts";
import { type RegistryClient, sha256Digest } from "./client.ts";
import { checkSpec } from "./pipeline_config.ts";
import { formatReference, type ImageReference } from "./reference.ts";

/** A model file to publish under a name. */
export interface PublishModel {
  model: string;
  file: string;
  version?: string;
}

/** One step to publish: a model, or a split between variants; optionally a mapping and shadows. */
export interface PublishStep extends Partial<PublishModel> {
  split?: { key?: string; variants: (PublishModel & { weight?: number })[] };
  inputs?: Record<string, string>;
  shadows?: PublishModel[];
}

/** What to publish. */
export interface PublishSpec {
  name: string;
  version?: string;
  steps: PublishStep[];
  /** Validation name → expression. */
  validations?: Record<string, string>;
}

/** Reads a spec file (or `dir/pipeline.json`); model files become absolute. */
export async function readPublishSpec(path: string): Promise<PublishSpec> {
  const info = await Deno.stat(path).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new ConfigError(
      `${errorText(err)}: tern publish takes a pipeline folder (with pipeline.json) or a spec file`,
    );
  });
  const file = info.isDirectory ? join(path, "pipeline.json") : path;
  let spec: PublishSpec;
  try {
    spec = JSON.parse(await Deno.readTextFile(file));
  } catch (err) {
    throw new ConfigError(`${file}: ${errorText(err)}`);
  }
  if (!spec || !Array.isArray(spec.steps)) {
    throw new ConfigError(`${file}: expected {"name", "steps": [{"model", "file"}]}`);
  }
  const at = <T extends { file?: string }>(m: T): T =>
    typeof m?.file === "string" ? { ...m, file: join(dirname(file), m.file) } : m;
  return {
    ...spec,
    steps: spec.steps.map((s) => ({
      ...at(s),
      split: s?.split && { ...s.split, variants: Array.isArray(s.split.variants) ? s.split.variants.map(at) : [] },
      shadows: Array.isArray(s?.shadows) ? s.shadows.map(at) : s?.shadows,
    })),
  };
}

/** Every model file the spec names (steps, variants, shadows), each name once; a name with two files is refused. */
function publishModels(spec: PublishSpec): PublishModel[] {
  const models = new Map<string, PublishModel>();
  for (const step of spec.steps) {
    const all = [
      ...(step.split ? step.split.variants : [step as PublishModel]),
      ...(step.shadows ?? []),
    ];
    for (const m of all) {
      if (typeof m?.file !== "string") {
        throw new ConfigError(`model ${JSON.stringify(m?.model)} has no "file"`);
      }
      const seen = models.get(m.model);
      if (seen && seen.file !== m.file) {
        throw new ConfigError(`model '${m.model}' is given two files: ${seen.file} and ${m.file}`);
      }
      if (!seen) models.set(m.model, m);
    }
  }
  return [...models.values()];
}

/** The config blob's spec: the steps with model names only. */
function configOf(spec: PublishSpec, version: string): Record<string, unknown> {
  return {
    name: spec.name,
    version,
    steps: spec.steps.map((s) => ({
      ...(s.split
        ? {
          split: {
            ...(s.split.key !== undefined ? { key: s.split.key } : {}),
            variants: s.split.variants.map((v) => ({ model: v.model, weight: v.weight ?? 1 })),
          },
        }
        : { model: s.model }),
      ...(s.inputs !== undefined ? { inputs: s.inputs } : {}),
      ...(s.shadows !== undefined ? { shadows: s.shadows.map((m) => m.model) } : {}),
    })),
    ...(spec.validations !== undefined ? { validations: spec.validations } : {}),
  };
}

/** The short form: one step per model file, named after the file. */
export function shortFormSpec(name: string, files: string[]): PublishSpec {
  return { name, steps: files.map((file) => ({ model: basename(file).replace(/\.onnx$/i, "").toLowerCase(), file })) };
}

/** Pushes the pipeline (its `version` set) under `ref`'s tag; returns its PIPELINE_URL and digest. */
/** A spec `checkPublish` took: its model files, each once, and its config blob. */
export interface CheckedPublish {
  models: PublishModel[];
  config: Record<string, unknown>;
}

/** A model file's bytes, or a ConfigError naming it. */
function readModelFile(file: string): Promise<Uint8Array> {
  return Deno.readFile(file).catch((err) => {
    throw new ConfigError(`model file ${file}: ${err.message}`);
  });
}

/**
 * Checks a spec (names, versions, steps, validations) and every model file it names, before any registry is
 * asked or anything is pushed: a wrong one is refused here, not on every edge that pulls it.
 */
export async function checkPublish(spec: PublishSpec & { version: string }): Promise<CheckedPublish> {
  if (!NAME.test(spec.name)) throw new ConfigError(`pipeline name '${spec.name}' must match ${NAME.source}`);
  if (spec.steps.length === 0) {
    throw new ConfigError('the pipeline has no steps (add some to the spec\'s "steps", or give --model FILE)');
  }
  const models = publishModels(spec);
  for (const v of [spec.version, ...models.map((s) => s.version)]) {
    if (v !== undefined && !UUID.test(v)) throw new ConfigError(`version '${v}' is not a UUID`);
  }
  for (const m of models) {
    if (!NAME.test(m.model)) throw new ConfigError(`model name '${m.model}' must match ${NAME.source}`);
  }
  const config = configOf(spec, spec.version);
  try {
    checkSpec(config, "the spec", new Set(models.map((m) => m.model)));
  } catch (err) {
    throw new ConfigError(errorText(err));
  }
  // One file at a time: a pipeline of large models is never held whole.
  for (const step of models) {
    const problem = notOnnx(await readModelFile(step.file));
    if (problem) throw new ConfigError(`model file ${step.file} is not an ONNX model: ${problem}`);
  }
  return { models, config };
}

/** Pushes a pipeline (`checked`: what checkPublish gave for it, else it is checked here) and tags it. */
export async function publishPipeline(
  client: RegistryClient,
  ref: ImageReference,
  spec: PublishSpec & { version: string },
  checked?: CheckedPublish,
): Promise<{ pipelineUrl: string; manifestDigest: string }> {
  if (!ref.tag) throw new ConfigError("tern publish needs a reference with a :tag");
  const { models, config } = checked ?? await checkPublish(spec);
  const layers: Descriptor[] = [];
  for (const step of models) {
    const bytes = await readModelFile(step.file);
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
  const version = spec.version;
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDigest = sha256Digest(configBytes);
  await client.uploadBlob(ref.repository, configDigest, configBytes);
  const manifest = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: ARTIFACT_TYPE,
    config: { mediaType: CONFIG_MEDIA_TYPE, digest: configDigest, size: configBytes.length },
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
