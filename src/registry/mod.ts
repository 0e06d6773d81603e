/**
 * @module
 * The registry's public face for commands: a client for a reference's
 * registry from tern's settings, and fetching a pipeline (registry first, the
 * cache when the registry cannot be reached).
 */
import type { PipelineDefinition } from "../pipeline/spec.ts";
import type { PipelineSource } from "../pipeline/updater.ts";
import type { Credentials } from "./auth.ts";
import { ArtifactCache } from "./cache.ts";
import { RegistryClient } from "./client.ts";
import { RegistryError } from "./errors.ts";
import { cachedPipeline, currentDigest, pullPipeline } from "./pull.ts";
import { type ImageReference, normaliseRegistry, parseReference } from "./reference.ts";

export { AuthError } from "./auth.ts";
export { ArtifactCache } from "./cache.ts";
export { RegistryClient } from "./client.ts";
export { RegistryError } from "./errors.ts";
export { cachedPipeline, currentDigest, pullPipeline } from "./pull.ts";
export { checkPublish, publishPipeline, readPublishSpec, shortFormSpec } from "./publish.ts";
export { formatReference, type ImageReference, parseReference } from "./reference.ts";

/** Registry settings from the environment (OCI_*). */
export interface RegistrySettings {
  /** OCI_REGISTRY: default host, and the host the credentials belong to. */
  defaultRegistry?: string;
  /**
   * Where the credentials go without OCI_REGISTRY: the host of the reference given (`tern pull`, `tern publish`) or of
   * the PIPELINE_URL tern started with; a pipeline Ops assigns later on another host does not get them.
   */
  credentialsRegistry?: string;
  username?: string;
  password?: string;
  plainHttp: boolean;
  /** OCI_TIMEOUT: seconds without an answer or a byte before a request is cut off. */
  timeoutSeconds?: number;
}

/**
 * The credentials for `ref`'s registry: only when that is OCI_REGISTRY's host, or without OCI_REGISTRY the host they
 * were given for (`credentialsRegistry`); a PIPELINE_URL naming another host never receives them.
 */
export function credentialsFor(ref: ImageReference, settings: RegistrySettings): Credentials | undefined {
  if (credentialsHome(settings) !== ref.registry) return undefined;
  return settings.username !== undefined && settings.password !== undefined
    ? { username: settings.username, password: settings.password }
    : undefined;
}

/** The registry host the credentials belong to: OCI_REGISTRY, else `credentialsRegistry`; undefined: none. */
function credentialsHome(settings: RegistrySettings): string | undefined {
  const home = settings.defaultRegistry ?? settings.credentialsRegistry;
  return home === undefined ? undefined : normaliseRegistry(home);
}

/** A client for `ref`'s registry, with the credentials when they are that registry's (credentialsFor). */
export function clientFor(
  ref: ImageReference,
  settings: RegistrySettings,
  log: (line: string) => void,
): RegistryClient {
  const credentials = credentialsFor(ref, settings);
  const withheld = !credentials && settings.username !== undefined && settings.password !== undefined;
  return new RegistryClient({
    registry: ref.registry,
    credentials,
    credentialsWithheldFor: withheld ? credentialsHome(settings) ?? "" : undefined,
    plainHttp: settings.plainHttp,
    log,
    idleTimeoutMs: (settings.timeoutSeconds ?? 30) * 1000,
  });
}

/**
 * The pipeline at `url`: pulled (and cached) when the registry answers; from
 * the cache when it cannot be reached. Other failures (credentials, a missing
 * tag, a layer that does not match its digest) are thrown.
 */
export async function fetchPipeline(
  url: string,
  settings: RegistrySettings,
  persistentVolumeDir: string,
  log: (line: string) => void,
): Promise<PipelineDefinition> {
  const ref = parseReference(url, settings.defaultRegistry);
  const cache = new ArtifactCache(persistentVolumeDir);
  try {
    // The cache names it the version to start from only once it serves (saveServedRef).
    return await pullPipeline(clientFor(ref, settings, log), cache, ref, log, ttyProgress(), { saveRef: false });
  } catch (err) {
    if (!(err instanceof RegistryError && err.unavailable)) throw err;
    log(`${err.message}; starting from the cached pipeline`);
    try {
      return await cachedPipeline(cache, ref);
    } catch (cacheErr) {
      throw new Error(`${err.message}, and ${cacheErr instanceof Error ? cacheErr.message : String(cacheErr)}`);
    }
  }
}

/**
 * Where the pipeline updater gets pipelines: a PIPELINE_URL's current digest
 * (one manifest request, through one client per registry host, so a Bearer
 * token is reused), and the pipeline pulled as at start-up (the cache when
 * the registry cannot be reached); no URL: `demo()`.
 */
export function registrySource(
  settings: RegistrySettings,
  persistentVolumeDir: string,
  log: (line: string) => void,
  demo: () => Promise<PipelineDefinition>,
): PipelineSource {
  const clients = new Map<string, RegistryClient>();
  return {
    pinnedDigest: (url) => parseReference(url, settings.defaultRegistry).digest,
    digest: (url) => {
      const ref = parseReference(url, settings.defaultRegistry);
      let client = clients.get(ref.registry);
      if (!client) clients.set(ref.registry, client = clientFor(ref, settings, log));
      return currentDigest(client, ref);
    },
    fetch: (url) => url ? fetchPipeline(url, settings, persistentVolumeDir, log) : demo(),
    served: (definition) => saveServedRef(definition, persistentVolumeDir),
  };
}

/**
 * Records `definition`, now serving, as the version of its reference an offline start serves (a version pulled but
 * failing to load is never recorded: the one that served stays the one to start from).
 */
export async function saveServedRef(definition: PipelineDefinition, persistentVolumeDir: string): Promise<void> {
  const source = definition.source;
  if (!source) return;
  await new ArtifactCache(persistentVolumeDir).saveRef(source.reference, source.manifest ?? source.digest);
}

/** On a terminal, a progress line rewritten in place (on stderr); elsewhere none. */
export function ttyProgress(): ((line: string) => void) | undefined {
  if (!Deno.stderr.isTerminal()) return undefined;
  const encoder = new TextEncoder();
  return (line) => Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}`));
}
