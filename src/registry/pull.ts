/**
 * @module
 * Fetches a published pipeline into the cache (`tern pull`, and start-up with
 * PIPELINE_URL), printing what happens in the Wallaroo edge's words; and
 * rebuilds a pipeline from the cache alone when the registry is away.
 */
import type { ModelArtifact, PipelineDefinition } from "../pipeline/spec.ts";
import type { ArtifactCache } from "./cache.ts";
import type { RegistryClient } from "./client.ts";
import {
  ARTIFACT_TYPE,
  type Descriptor,
  descriptor,
  OCI_INDEX,
  parsePipelineManifest,
  type PipelineManifest,
} from "./artifact.ts";
import { parsePipelineConfig } from "./pipeline_config.ts";
import { formatReference, type ImageReference } from "./reference.ts";
import { printable } from "../errors.ts";

/** Layers fetched at once. */
const PARALLEL_LAYERS = 3;

/** Pulls `ref` into `cache` and returns the pipeline it holds. */
export async function pullPipeline(
  client: RegistryClient,
  cache: ArtifactCache,
  ref: ImageReference,
  log: (line: string) => void,
  progress?: (line: string) => void,
  { saveRef = true }: { saveRef?: boolean } = {},
): Promise<PipelineDefinition> {
  await cache.prepare();
  const reference = formatReference(ref);
  // Lines go out whole: a progress line in place is cleared first.
  const say = progress ? (line: string) => (progress(""), log(line)) : log;
  say(`Fetching manifest and config for pipeline: ${reference}`);
  let fetched = await client.getManifest(ref.repository, ref.digest ?? ref.tag!);
  const source = { reference, digest: fetched.digest };
  if (fetched.mediaType === OCI_INDEX || isIndex(fetched.bytes)) {
    const index = JSON.parse(new TextDecoder().decode(fetched.bytes)) as { manifests?: unknown[] };
    const children = (index.manifests ?? []).map((m, i) => descriptor(m, `index entry ${i}`));
    const chosen = children.find((m) => m.artifactType === ARTIFACT_TYPE) ?? children[0];
    if (!chosen) throw new Error(`${reference} is an empty index`);
    fetched = await client.getManifest(ref.repository, chosen.digest);
  }
  const manifest = parsePipelineManifest(fetched.bytes);
  await cache.write(fetched.digest, fetched.bytes);
  const blobs = new BlobFetcher(client, cache, ref.repository);
  const config = await blobs.get(manifest.config);
  say("Fetching model layers");
  const meter = progress && new TransferMeter(progress);
  const queue = [...manifest.models];
  const layers = new Map<string, Uint8Array>();
  await Promise.all(Array.from({ length: Math.min(PARALLEL_LAYERS, queue.length) }, async () => {
    for (let layer = queue.shift(); layer; layer = queue.shift()) {
      const started = performance.now();
      const { bytes, cached } = await blobs.fetch(layer.descriptor, meter?.track(layer.name, layer.descriptor.size));
      layers.set(layer.name, bytes);
      const seconds = (performance.now() - started) / 1000;
      const rate = cached
        ? "cached"
        : `${(layer.descriptor.size / 2 ** 20 / Math.max(seconds, 1e-3)).toFixed(1)} MiB/s`;
      say(printable(
        `digest: ${layer.descriptor.digest} filename: ${layer.filename} name: ${layer.name} type: model ` +
          `runtime: ${layer.runtime} version: ${layer.version} size: ${layer.descriptor.size} ${rate} Fetched`,
      ));
    }
  }));
  meter?.done();
  // Saved for the reference as given (tag, or digest of an index): the offline start finds the same manifest. Where
  // the pull is to be served, not before it serves (saveServedRef): a version that fails to load never replaces the
  // one an offline start should serve.
  if (saveRef) await cache.saveRef(reference, fetched.digest);
  return {
    ...definition(manifest, config, (name) => layers.get(name)!),
    source: { ...source, manifest: fetched.digest },
  };
}

/**
 * The digest of the manifest `ref` names now (its tag's current manifest, or
 * the index at a digest): one request, for following a tag without pulling.
 */
export async function currentDigest(client: RegistryClient, ref: ImageReference): Promise<string> {
  return (await client.getManifest(ref.repository, ref.digest ?? ref.tag!)).digest;
}

/** The pipeline of `ref`'s last good pull, from the cache only (every blob re-hashed). */
export async function cachedPipeline(cache: ArtifactCache, ref: ImageReference): Promise<PipelineDefinition> {
  const reference = formatReference(ref);
  const digest = await cache.loadRef(reference) ?? ref.digest;
  if (!digest) throw new Error(`${reference} has never been pulled into the cache at ${cache.root}`);
  const read = async (d: string, what: string, size?: number) => {
    const { bytes, corrupt } = await cache.read(d, size);
    if (!bytes) throw new Error(`cached ${what} ${d} is ${corrupt ? "corrupt (deleted)" : "missing"}`);
    return bytes;
  };
  const manifest = parsePipelineManifest(await read(digest, "manifest of " + reference));
  const config = await read(manifest.config.digest, "config", manifest.config.size);
  const layers = new Map<string, Uint8Array>();
  for (const m of manifest.models) {
    layers.set(m.name, await read(m.descriptor.digest, `model ${m.name}`, m.descriptor.size));
  }
  return {
    ...definition(manifest, config, (name) => layers.get(name)!),
    source: { reference, digest, manifest: digest },
  };
}

function definition(
  manifest: PipelineManifest,
  configBytes: Uint8Array,
  layer: (name: string) => Uint8Array,
): PipelineDefinition {
  const config = parsePipelineConfig(configBytes, manifest);
  const model = (name: string): ModelArtifact => {
    const m = manifest.models.find((x) => x.name === name)!;
    return {
      name: m.name,
      version: m.version || config.version,
      sha256: m.descriptor.digest.slice(7),
      bytes: layer(m.name),
    };
  };
  return {
    name: config.name,
    version: config.version,
    steps: config.steps.map((step) => ({
      variants: step.variants.map((v) => ({ model: model(v.model), weight: v.weight })),
      splitKey: step.splitKey,
      inputs: step.inputs,
      shadows: step.shadows?.map(model),
    })),
    validations: config.validations,
  };
}

/**
 * Gets blobs into the cache, each digest once (two steps may share a model
 * file): an intact cached copy is used as is, else it is downloaded.
 */
class BlobFetcher {
  readonly #inFlight = new Map<string, Promise<{ bytes: Uint8Array; cached: boolean }>>();
  constructor(readonly client: RegistryClient, readonly cache: ArtifactCache, readonly repository: string) {}

  async get(d: Descriptor): Promise<Uint8Array> {
    return (await this.fetch(d)).bytes;
  }

  fetch(d: Descriptor, onProgress?: (bytes: number) => void): Promise<{ bytes: Uint8Array; cached: boolean }> {
    let p = this.#inFlight.get(d.digest);
    if (!p) {
      p = this.#fetch(d, onProgress);
      this.#inFlight.set(d.digest, p);
    }
    return p;
  }

  async #fetch(d: Descriptor, onProgress?: (bytes: number) => void) {
    const { bytes } = await this.cache.read(d.digest, d.size);
    if (bytes) {
      onProgress?.(d.size);
      return { bytes, cached: true };
    }
    await this.client.downloadBlob(this.repository, d.digest, d.size, this.cache.blobPath(d.digest), onProgress);
    // Verified while streaming: read back without hashing again.
    return { bytes: await Deno.readFile(this.cache.blobPath(d.digest)), cached: false };
  }
}

/**
 * One self-rewriting progress line (a TTY): each layer still downloading with
 * its bytes, size and rate, at most 4 updates a second.
 */
class TransferMeter {
  readonly #show: (line: string) => void;
  readonly #layers = new Map<string, { bytes: number; size: number; started: number }>();
  #shownAt = 0;

  constructor(show: (line: string) => void) {
    this.#show = show;
  }

  /** A progress callback for one layer of `size` bytes. */
  track(name: string, size: number): (bytes: number) => void {
    const layer = { bytes: 0, size, started: performance.now() };
    this.#layers.set(name, layer);
    return (bytes) => {
      layer.bytes = bytes;
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
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    const active = [...this.#layers].filter(([, l]) => l.bytes < l.size).map(([name, l]) => {
      const rate = l.bytes / 2 ** 20 / Math.max((now - l.started) / 1000, 1e-3);
      return `${printable(name)} ${mib(l.bytes)}/${mib(l.size)} MiB ${rate.toFixed(1)} MiB/s`;
    });
    if (active.length) this.#show(`Fetching: ${active.join(" | ")}`);
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
