/**
 * @module
 * Fetches a published pipeline into the cache (`tern pull`, and start-up with
 * PIPELINE_URL), printing what happens in the Wallaroo edge's words; and
 * rebuilds a pipeline from the cache alone when the registry is away.
 */
import type { PipelineDefinition } from "../pipeline/spec.ts";
import type { ArtifactCache } from "./cache.ts";
import type { RegistryClient } from "./client.ts";
import {
  ARTIFACT_TYPE,
  type Descriptor,
  OCI_INDEX,
  parsePipelineConfig,
  parsePipelineManifest,
  type PipelineManifest,
} from "./artifact.ts";
import { formatReference, type ImageReference } from "./reference.ts";

/** Layers fetched at once. */
const PARALLEL_LAYERS = 3;

/** Pulls `ref` into `cache` and returns the pipeline it holds. */
export async function pullPipeline(
  client: RegistryClient,
  cache: ArtifactCache,
  ref: ImageReference,
  log: (line: string) => void,
  progress?: (line: string) => void,
): Promise<PipelineDefinition> {
  await cache.prepare();
  log(`Fetching manifest and config for pipeline: ${formatReference(ref)}`);
  let fetched = await client.getManifest(ref.repository, ref.digest ?? ref.tag!);
  if (fetched.mediaType === OCI_INDEX || isIndex(fetched.bytes)) {
    const index = JSON.parse(new TextDecoder().decode(fetched.bytes)) as { manifests?: Descriptor[] };
    const chosen = index.manifests?.find((m) => m.artifactType === ARTIFACT_TYPE) ?? index.manifests?.[0];
    if (!chosen) throw new Error(`${formatReference(ref)} is an empty index`);
    fetched = await client.getManifest(ref.repository, chosen.digest);
  }
  const manifest = parsePipelineManifest(fetched.bytes);
  await cache.write(fetched.digest, fetched.bytes);
  await ensureBlob(client, cache, ref.repository, manifest.config);
  log("Fetching model layers");
  const queue = [...manifest.models];
  const meter = progress && new TransferMeter(manifest.models.reduce((n, m) => n + m.descriptor.size, 0), progress);
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LAYERS, queue.length) }, async () => {
    for (let layer = queue.shift(); layer; layer = queue.shift()) {
      const started = performance.now();
      const cached = await ensureBlob(client, cache, ref.repository, layer.descriptor, meter?.track(layer.name));
      const seconds = (performance.now() - started) / 1000;
      const rate = cached
        ? "cached"
        : `${(layer.descriptor.size / 2 ** 20 / Math.max(seconds, 1e-3)).toFixed(1)} MiB/s`;
      log(
        `digest: ${layer.descriptor.digest} filename: ${layer.filename} name: ${layer.name} type: model ` +
          `runtime: ${layer.runtime} version: ${layer.version} size: ${layer.descriptor.size} ${rate} Fetched`,
      );
    }
  }));
  meter?.done();
  await cache.saveRef(formatReference(ref), fetched.digest);
  return await definitionFromCache(cache, manifest);
}

/** The pipeline of `ref`'s last good pull, from the cache only. */
export async function cachedPipeline(cache: ArtifactCache, ref: ImageReference): Promise<PipelineDefinition> {
  const reference = formatReference(ref);
  const digest = ref.digest ?? await cache.loadRef(reference);
  if (!digest) throw new Error(`${reference} has never been pulled into the cache at ${cache.root}`);
  const { bytes, corrupt } = await cache.read(digest);
  if (!bytes) throw new Error(`the cached manifest of ${reference} is ${corrupt ? "corrupt" : "missing"}`);
  return await definitionFromCache(cache, parsePipelineManifest(bytes));
}

async function definitionFromCache(cache: ArtifactCache, manifest: PipelineManifest): Promise<PipelineDefinition> {
  const read = async (d: Descriptor, what: string) => {
    const { bytes, corrupt } = await cache.read(d.digest, d.size);
    if (!bytes) throw new Error(`cached ${what} ${d.digest} is ${corrupt ? "corrupt (deleted)" : "missing"}`);
    return bytes;
  };
  const config = parsePipelineConfig(await read(manifest.config, "config"), manifest);
  const steps = [];
  for (const step of config.steps) {
    const layer = manifest.models.find((m) => m.name === step.model)!;
    steps.push({
      name: layer.name,
      version: layer.version || config.version,
      sha256: layer.descriptor.digest.slice(7),
      bytes: await read(layer.descriptor, `model ${layer.name}`),
    });
  }
  return { name: config.name, version: config.version, steps };
}

/** Makes sure an intact copy of `d` is cached; returns true when it already was. */
async function ensureBlob(
  client: RegistryClient,
  cache: ArtifactCache,
  repository: string,
  d: Descriptor,
  onProgress?: (bytes: number) => void,
) {
  const { bytes } = await cache.read(d.digest, d.size);
  if (bytes) {
    onProgress?.(d.size);
    return true;
  }
  await client.downloadBlob(repository, d.digest, d.size, cache.blobPath(d.digest), onProgress);
  return false;
}

/** One self-rewriting progress line (a TTY) for all layers: bytes, total, rate; at most 4 updates a second. */
class TransferMeter {
  readonly #total: number;
  readonly #show: (line: string) => void;
  readonly #bytes = new Map<string, number>();
  readonly #started = performance.now();
  #shownAt = 0;

  constructor(total: number, show: (line: string) => void) {
    this.#total = total;
    this.#show = show;
  }

  /** A progress callback for one layer. */
  track(name: string): (bytes: number) => void {
    return (bytes) => {
      this.#bytes.set(name, bytes);
      const now = performance.now();
      if (now - this.#shownAt < 250) return;
      this.#shownAt = now;
      this.#render(now);
    };
  }

  /** Clears the line. */
  done(): void {
    this.#show("");
  }

  #render(now: number): void {
    const have = [...this.#bytes.values()].reduce((a, b) => a + b, 0);
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    const rate = have / 2 ** 20 / Math.max((now - this.#started) / 1000, 1e-3);
    this.#show(`Fetching model layers: ${mib(have)}/${mib(this.#total)} MiB, ${rate.toFixed(1)} MiB/s`);
  }
}

function isIndex(bytes: Uint8Array): boolean {
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes));
    return Array.isArray(m.manifests);
  } catch {
    return false;
  }
}
