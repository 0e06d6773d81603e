/**
 * @module
 * Registry failures. `unavailable` marks the ones where starting from the
 * cache is right: no answer, a timeout, or 5xx after the retries (the
 * registry or its token server is down, not the request wrong).
 */

/** A failure talking to the registry. */
export class RegistryError extends Error {
  /** The registry (or its token server) could not serve now; the cache may. */
  readonly unavailable: boolean;
  readonly status?: number;
  /** The registry served a blob's bytes, and they are not the blob: a pull again costs the download again. */
  readonly corrupt: boolean;
  constructor(message: string, options: { unavailable?: boolean; status?: number; corrupt?: boolean } = {}) {
    super(message);
    this.name = "RegistryError";
    this.status = options.status;
    this.corrupt = options.corrupt ?? false;
    this.unavailable = options.unavailable ?? (options.status !== undefined && retryableStatus(options.status));
  }
}

/**
 * A status that says "not now" rather than "no": 5xx, 429 (rate limited: a fleet rebooting at once against Docker Hub
 * or GHCR) and 408. Retried, and at start-up the cache serves meanwhile.
 */
export function retryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}
