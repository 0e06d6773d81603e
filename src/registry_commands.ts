/**
 * @module
 * `tern pull [REFERENCE]` (fill the cache without serving, to pre-seed a
 * device) and `tern publish` (push a pipeline artifact, print its
 * PIPELINE_URL). Both exit non-zero with one clear line on failure.
 */
import type { Config } from "./config.ts";
import { ConfigError } from "./errors.ts";
import {
  ArtifactCache,
  checkPublish,
  clientFor,
  formatReference,
  parseReference,
  publishPipeline,
  pullPipeline,
  readPublishSpec,
  shortFormSpec,
  ttyProgress,
} from "./registry/mod.ts";
import { registrySettings } from "./registry_settings.ts";
import { modelsOf } from "./pipeline/spec.ts";

/** `tern pull`: fetches the pipeline (PIPELINE_URL or the operand) into PERSISTENT_VOLUME_DIR. */
export async function runPull(config: Config): Promise<void> {
  if (!config.pipelineUrl) throw new ConfigError("tern pull: give a reference or set PIPELINE_URL");
  const ref = parseReference(config.pipelineUrl, config.ociRegistry);
  const cache = new ArtifactCache(config.persistentVolumeDir);
  const client = clientFor(ref, registrySettings(config), console.log);
  const definition = await pullPipeline(client, cache, ref, console.log, ttyProgress());
  const models = modelsOf(definition).length; // every step's, variants' and shadows' (steps can share one)
  console.log(
    `Pulled pipeline ${definition.name} (version ${definition.version}, ${models} model${
      models === 1 ? "" : "s"
    }) into ${cache.root}`,
  );
}

/** `tern publish`: pushes a spec (or --name/--model) and prints `PIPELINE_URL=…`. */
export async function runPublish(config: Config): Promise<void> {
  const args = config.publish!;
  const spec = args.spec ? await readPublishSpec(args.spec) : shortFormSpec(args.name!, args.models);
  const version = spec.version ?? crypto.randomUUID();
  // The spec and its files first: their errors are the ones to see, before any reference or registry.
  const checked = await checkPublish({ ...spec, version });
  // Without a tag (or without a reference), the pipeline version is the tag.
  const target = args.reference ?? spec.name;
  const tagged = /[:@][^/]*$/.test(target.replace(/^[^/]*\//, "")) ? target : `${target}:${version}`;
  const ref = parseReference(tagged, config.ociRegistry);
  const client = clientFor(ref, registrySettings(config, ref.registry), console.log);
  console.log(
    `Publishing pipeline ${spec.name} (${spec.steps.length} step${spec.steps.length === 1 ? "" : "s"}) to ${
      formatReference(ref)
    }`,
  );
  const { pipelineUrl, manifestDigest } = await publishPipeline(client, ref, { ...spec, version }, checked);
  console.log(`Published ${manifestDigest}`);
  console.log(`PIPELINE_URL=${pipelineUrl}`);
}
