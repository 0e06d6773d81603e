/**
 * @module
 * The OCI_* settings of a Config, as the registry client takes them: shared by
 * `tern serve` and `tern pull`/`publish`, which thereby need not load the
 * serving code.
 */
import type { Config } from "./config.ts";
import type { RegistrySettings } from "./registry/mod.ts";
import { parseReference } from "./registry/reference.ts";

/**
 * The OCI_* settings. Without OCI_REGISTRY the credentials belong to `target`'s host (the registry `tern publish`
 * pushes to), else to that of the PIPELINE_URL given at start (`tern serve`, `tern pull`).
 */
export function registrySettings(config: Config, target?: string): RegistrySettings {
  return {
    defaultRegistry: config.ociRegistry,
    credentialsRegistry: target ?? startRegistry(config),
    username: config.ociUsername,
    password: config.ociPassword,
    plainHttp: config.ociPlainHttp,
    timeoutSeconds: config.ociTimeoutSeconds,
  };
}

function startRegistry(config: Config): string | undefined {
  if (config.pipelineUrl === undefined) return undefined;
  try {
    return parseReference(config.pipelineUrl).registry;
  } catch {
    return undefined; // a malformed PIPELINE_URL stops start-up with its own message
  }
}

/**
 * The start-up warning for credentials that go to no registry: OCI_USERNAME/OCI_PASSWORD set, but neither OCI_REGISTRY
 * nor a PIPELINE_URL says whose they are (the pipeline will come from Ops); undefined when they have a home.
 */
export function credentialsWarning(config: Config): string | undefined {
  if (config.ociUsername === undefined || config.ociPassword === undefined) return undefined;
  if (config.ociRegistry !== undefined || startRegistry(config) !== undefined) return undefined;
  return "warning: OCI_USERNAME and OCI_PASSWORD are set, but neither OCI_REGISTRY nor PIPELINE_URL names the " +
    "registry they belong to, so they are sent to none: set OCI_REGISTRY to the host of the pipelines Ops assigns";
}
