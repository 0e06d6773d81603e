/**
 * @module
 * The OCI_* settings of a Config, as the registry client takes them: shared by
 * `tern serve` and `tern pull`/`publish`, which thereby need not load the
 * serving code.
 */
import type { Config } from "./config.ts";
import type { RegistrySettings } from "./registry/mod.ts";

/** The OCI_* settings. */
export function registrySettings(config: Config): RegistrySettings {
  return {
    defaultRegistry: config.ociRegistry,
    username: config.ociUsername,
    password: config.ociPassword,
    plainHttp: config.ociPlainHttp,
    timeoutSeconds: config.ociTimeoutSeconds,
  };
}
