/**
 * @module
 * An OCI Distribution client for what tern needs: manifests (OCI image
 * manifest and index, Docker schema 2 and manifest list), blobs streamed to
 * disk with their sha256 computed on the way and their size checked, resumed
 * with Range after a dropped connection, retried with backoff on 5xx and
 * network errors, cut off when the link goes quiet; blob upload and manifest
 * push for `tern publish`. HTTPS, except for loopback registries or with
 * `plainHttp`.
 */
import { errorText, printable } from "../errors.ts";
import { createHash } from "node:crypto";
import { AuthError, basicHeader, type Challenge, type Credentials, fetchToken, parseChallenge } from "./auth.ts";
import { RegistryError, retryableStatus } from "./errors.ts";
import { DIGEST } from "./reference.ts";
import { isLoopbackHost } from "../loopback.ts";

export { RegistryError } from "./errors.ts";

/** Media types tern reads as manifests, in Accept order. */
export const MANIFEST_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
];

/** Client settings. */
export interface RegistryClientOptions {
  /** `host[:port]`. */
  registry: string;
  credentials?: Credentials;
  /** Credentials exist but belong to this registry (named; "" for none): said when a login is asked for. */
  credentialsWithheldFor?: string;
  /** Plain HTTP for a non-loopback registry (explicit opt-in). */
  plainHttp?: boolean;
  /** Start-up lines (`Login Succeeded`). */
  log?: (line: string) => void;
  /**
   * Attempts of one request (GET/HEAD; default 3, so an absent registry costs
   * 0.6 s before tern falls back to its cache); a blob transfer gets twice as
   * many, each resuming where the last stopped.
   */
  attempts?: number;
  /** First backoff delay, doubled per attempt (default 200 ms). */
  backoffMs?: number;
  /** A request with no headers, or a body with no bytes, for this long is cut off (default 30 s). */
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** A manifest as fetched: its bytes, their digest and media type. */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

/** One blob to fetch into `dest`. */
interface BlobJob {
  repository: string;
  digest: string;
  size: number;
  dest: string;
  onProgress?: (bytes: number) => void;
}

interface SendInit {
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** One attempt only (the caller retries). */
  once?: boolean;
  signal?: AbortSignal;
}

/** Talks to one registry. */
export class RegistryClient {
  readonly registry: string;
  readonly #base: string;
  readonly #options: RegistryClientOptions;
  readonly #fetch: typeof fetch;
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();
  readonly #plainHttpAllowed: boolean;
  #useBasic = false;
  #announcedLogin = false;

  /** How long a request may wait for headers, or a body for bytes (idleTimeoutMs, default 30 s). */
  get #idleMs(): number {
    return this.#options.idleTimeoutMs ?? 30_000;
  }

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#plainHttpAllowed = options.plainHttp === true || isLoopbackHost(options.registry);
    this.#base = `${this.#plainHttpAllowed ? "http" : "https"}://${options.registry}`;
  }

  /** GETs a manifest by tag or digest; checks the digest when the reference or registry names one. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.#send("GET", `/v2/${repository}/manifests/${reference}`, repository, "pull", {
      headers: { accept: MANIFEST_TYPES.join(", ") },
    });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError(
        `${this.registry}/${repository}:${reference} not found (no such tag or digest in the registry)`,
        { status: 404 },
      );
    }
    await this.#expectOk(res, `fetching manifest ${repository}:${reference}`);
    const what = `manifest ${repository}:${reference}`;
    const body = await readAtMost(res, MAX_MANIFEST_BYTES, this.#idleMs).catch((err) => {
      throw new RegistryError(`${what}: ${this.registry} ${errorText(err)}`, { unavailable: true });
    });
    if (!body.whole) throw new RegistryError(`${what} is larger than ${MAX_MANIFEST_BYTES} bytes: refused`);
    const bytes = body.bytes;
    const digest = sha256Digest(bytes);
    const claimed = DIGEST.test(reference) ? reference : res.headers.get("docker-content-digest");
    if (claimed && claimed !== digest) {
      throw new RegistryError(
        `manifest ${repository}:${reference} has digest ${digest}, not ${printable(claimed)}: refused`,
      );
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
    return { digest, mediaType, bytes };
  }

  /**
   * Streams blob `digest` (of `size` bytes) into `dest`, hashing as it goes;
   * resumes a `.partial` file with Range; writes `dest` only when complete and
   * verified (temp file + rename). A lock file serialises processes fetching
   * the same blob (tern pull beside tern serve). `onProgress` gets the bytes
   * held so far.
   */
  async downloadBlob(
    repository: string,
    digest: string,
    size: number,
    dest: string,
    onProgress?: (bytes: number) => void,
  ): Promise<void> {
    if (!DIGEST.test(digest)) throw new RegistryError(`refusing blob with malformed digest '${printable(digest)}'`);
    const lock = await Deno.open(`${dest}.lock`, { write: true, create: true });
    try {
      await lock.lock(true);
      if (await Deno.stat(dest).then((s) => s.size === size).catch(() => false)) return; // another process did it
      await this.#download({ repository, digest, size, dest, onProgress });
    } finally {
      lock.close();
    }
  }

  async #download(job: BlobJob): Promise<void> {
    const { repository, digest, size, dest, onProgress } = job;
    const partial = `${dest}.partial`;
    const attempts = 2 * (this.#options.attempts ?? 3);
    for (let attempt = 1;; attempt++) {
      let have = await Deno.stat(partial).then((s) => s.size).catch(() => 0);
      if (have > size) have = await restart(partial);
      const controller = new AbortController();
      let idle: IdleTimer | undefined;
      try {
        if (have === size) {
          // Complete before a crash or cut: verify and keep it.
          if (await fileDigest(partial) === digest) return await Deno.rename(partial, dest);
          have = await restart(partial);
        }
        // What is here already is hashed before the request and its idle timer: gigabytes on an SD card take longer
        // than the timer allows, and every attempt would be cut off while hashing.
        const seeded = have > 0 ? await fileHash(partial) : undefined;
        idle = new IdleTimer(controller, this.#idleMs);
        const res = await this.#send("GET", `/v2/${repository}/blobs/${digest}`, repository, "pull", {
          headers: have > 0 ? { range: `bytes=${have}-` } : {},
          once: true,
          signal: controller.signal,
        });
        idle.touch();
        if (res.status === 404) {
          await res.body?.cancel();
          throw new RegistryError(`blob ${digest} is missing from ${this.registry}/${repository}`, { status: 404 });
        }
        if (retryableStatus(res.status)) {
          const asked = retryAfterMs(res.headers.get("retry-after"));
          await res.body?.cancel().catch(() => {});
          throw new NetworkCut(`blob ${digest}: ${this.registry} answered ${res.status}`, asked);
        }
        if (res.status === 416) {
          await res.body?.cancel().catch(() => {});
          await restart(partial);
          throw new NetworkCut(`blob ${digest}: the registry refused to resume; starting over`);
        }
        await this.#expectOk(res, `fetching blob ${digest}`);
        const resumed = res.status === 206 && contentRangeStart(res) === have;
        if (res.status === 206 && !resumed) {
          await res.body?.cancel();
          await restart(partial);
          throw new NetworkCut(`blob ${digest}: the registry resumed at the wrong offset; starting over`);
        }
        const hash = resumed && seeded ? seeded : createHash("sha256");
        const file = await Deno.open(partial, { write: true, create: true, truncate: !resumed, append: resumed });
        let written = resumed ? have : 0;
        try {
          for await (const chunk of res.body!) {
            idle.touch();
            written += chunk.length;
            if (written > size) {
              throw new RegistryError(`blob ${digest} is larger than the ${size} bytes declared`, { corrupt: true });
            }
            hash.update(chunk);
            await writeAll(file, chunk);
            onProgress?.(written);
          }
        } finally {
          file.close();
        }
        if (written !== size) throw new NetworkCut(`blob ${digest}: got ${written} of ${size} bytes`);
        const actual = `sha256:${hash.digest("hex")}`;
        if (actual !== digest) {
          await restart(partial);
          // A resumed file may have started from a bad earlier part: one more try from byte 0.
          if (resumed) throw new NetworkCut(`blob ${digest}: resumed copy did not match; starting over`);
          throw new RegistryError(`blob ${digest} does not match its digest (got ${actual}): refused`, {
            corrupt: true,
          });
        }
        await Deno.rename(partial, dest);
        return;
      } catch (err) {
        const retryable = err instanceof NetworkCut || (err instanceof RegistryError && err.unavailable) ||
          err instanceof TypeError || isAbort(err);
        if (!retryable || attempt >= attempts) {
          if (err instanceof RegistryError || err instanceof AuthError) throw err;
          throw new RegistryError(`fetching blob ${digest} from ${this.registry} failed: ${errorText(err)}`, {
            unavailable: retryable,
          });
        }
        await this.#backoff(attempt, err instanceof NetworkCut ? err.retryAfterMs : 0);
      } finally {
        idle?.stop();
      }
    }
  }

  /** Uploads `bytes` as blob `digest` unless the registry has it already. */
  async uploadBlob(repository: string, digest: string, bytes: Uint8Array): Promise<void> {
    const head = await this.#send("HEAD", `/v2/${repository}/blobs/${digest}`, repository, "pull,push");
    await head.body?.cancel();
    if (head.ok) return;
    const start = await this.#send("POST", `/v2/${repository}/blobs/uploads/`, repository, "pull,push");
    await this.#expectOk(start, `starting the upload of ${digest}`);
    await start.body?.cancel();
    const location = start.headers.get("location");
    if (!location) throw new RegistryError(`the registry gave no upload location for ${digest}`);
    const url = new URL(location, this.#base);
    url.searchParams.set("digest", digest);
    const put = await this.#send("PUT", url.href, repository, "pull,push", {
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    await this.#expectOk(put, `uploading blob ${digest}`);
    await put.body?.cancel();
  }

  /** PUTs a manifest under `tag`; returns its digest. */
  async putManifest(repository: string, tag: string, mediaType: string, bytes: Uint8Array): Promise<string> {
    const res = await this.#send("PUT", `/v2/${repository}/manifests/${tag}`, repository, "pull,push", {
      headers: { "content-type": mediaType },
      body: bytes,
    });
    await this.#expectOk(res, `pushing manifest ${repository}:${tag}`);
    await res.body?.cancel();
    return sha256Digest(bytes);
  }

  /**
   * Sends one request (a path on the registry, or an absolute URL it handed
   * out) with auth, answering a 401 challenge once; retries GET/HEAD on 5xx, 429
   * and 408 (waiting as Retry-After asks, up to 10 s) and network errors unless `once`.
   */
  async #send(method: string, target: string, repository: string, actions: string, init: SendInit = {}) {
    const scope = `repository:${repository}:${actions}`;
    const idempotent = method === "GET" || method === "HEAD";
    const attempts = idempotent && !init.once ? this.#options.attempts ?? 3 : 1;
    const url = target.startsWith("/") ? `${this.#base}${target}` : target;
    for (let attempt = 1;; attempt++) {
      try {
        let res = await this.#fetchWithAuth(method, url, scope, init);
        if (res.status === 401) {
          const challenge = parseChallenge(res.headers.get("www-authenticate"));
          await res.body?.cancel();
          if (challenge?.params.error === "insufficient_scope" && this.#tokens.has(scope)) {
            throw new AuthError(
              this.#options.credentials,
              this.registry,
              `${actions} access to ${repository}`,
              this.#options.credentialsWithheldFor,
            );
          }
          await this.#answer(challenge, scope, init.signal);
          res = await this.#fetchWithAuth(method, url, scope, init);
          if (res.status === 401) {
            const again = parseChallenge(res.headers.get("www-authenticate"));
            await res.body?.cancel();
            const missing = again?.params.error === "insufficient_scope"
              ? `${actions} access to ${repository}`
              : undefined;
            throw new AuthError(
              this.#options.credentials,
              this.registry,
              missing,
              this.#options.credentialsWithheldFor,
            );
          }
        }
        if (retryableStatus(res.status) && attempt < attempts) {
          const asked = retryAfterMs(res.headers.get("retry-after"));
          await res.body?.cancel();
          await this.#backoff(attempt, asked);
          continue;
        }
        if (res.ok && !this.#announcedLogin && this.#options.credentials && (this.#useBasic || this.#tokens.size)) {
          this.#announcedLogin = true;
          this.#options.log?.("Login Succeeded");
        }
        return res;
      } catch (err) {
        if (!(err instanceof TypeError || isAbort(err))) throw err;
        if (attempt >= attempts) {
          throw new RegistryError(`registry ${this.registry} is unreachable: ${errorText(err)}`, { unavailable: true });
        }
        await this.#backoff(attempt);
      }
    }
  }

  async #answer(challenge: ReturnType<typeof parseChallenge>, scope: string, signal?: AbortSignal): Promise<void> {
    if (challenge?.scheme === "bearer") {
      this.#tokens.set(scope, await this.#token(challenge, scope, signal));
    } else {
      if (!this.#options.credentials) {
        throw new AuthError(undefined, this.registry, undefined, this.#options.credentialsWithheldFor);
      }
      this.#useBasic = true;
    }
  }

  /**
   * A Bearer token from the challenge's realm, under the same timeout and
   * retries as any registry request: a token server that accepts and never
   * answers, or answers 5xx, is cut off and retried, then reported as
   * unavailable (so start-up uses the cache). `signal`: a caller's own cut-off
   * (a blob download's idle timer), left to that caller.
   */
  async #token(challenge: Challenge, scope: string, signal?: AbortSignal) {
    const attempts = this.#options.attempts ?? 3;
    const ms = this.#idleMs;
    for (let attempt = 1;; attempt++) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error("no answer")), ms);
      try {
        return await fetchToken(
          challenge,
          scope,
          this.#options.credentials,
          this.#fetch,
          // Cleartext credentials only to loopback, or to the registry's own host when plain HTTP was allowed for
          // it: a challenge cannot send them over the network to a host nobody opted in.
          (realm) => isLoopbackHost(realm.host) || (this.#plainHttpAllowed && realm.host === this.registry),
          signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
        );
      } catch (err) {
        const unavailable = err instanceof TypeError || isAbort(err) ||
          (err instanceof RegistryError && err.unavailable);
        if (!unavailable || signal?.aborted) throw err;
        if (attempt < attempts) {
          await this.#backoff(attempt);
          continue;
        }
        if (err instanceof RegistryError) throw err; // a 5xx: the token server's own words
        const server = `token server ${tokenOrigin(challenge)}`;
        throw new RegistryError(
          isAbort(err)
            ? `${server} gave no answer within ${ms / 1000} s (OCI_TIMEOUT) in ${attempts} attempts`
            : `${server} is unreachable: ${errorText(err)}`,
          { unavailable: true },
        );
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** One fetch; auth headers only to the registry's own origin; cut off when no headers come in time. */
  async #fetchWithAuth(method: string, url: string, scope: string, init: SendInit): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (new URL(url).origin === new URL(this.#base).origin) {
      const token = this.#tokens.get(scope);
      if (token && token.expiresAt > Date.now()) headers.authorization = `Bearer ${token.token}`;
      else if (this.#useBasic && this.#options.credentials) {
        headers.authorization = basicHeader(this.#options.credentials);
      }
    }
    // A caller's signal (blob downloads) carries its own idle timer; otherwise the headers must come in time.
    const controller = init.signal ? undefined : new AbortController();
    const timer = controller &&
      setTimeout(() => controller.abort(new Error("no answer")), this.#idleMs);
    try {
      return await this.#fetch(url, {
        method,
        headers,
        body: init.body as Uint8Array<ArrayBuffer> | undefined,
        signal: init.signal ?? controller!.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits before attempt `attempt + 1`: backoffMs, doubled per attempt, or longer when the registry `asked` to. */
  #backoff(attempt: number, asked = 0): Promise<void> {
    return delay(Math.max((this.#options.backoffMs ?? 200) * 2 ** (attempt - 1), Math.min(asked, MAX_RETRY_AFTER_MS)));
  }

  async #expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    const start = await readAtMost(res, 300, this.#idleMs).catch(() => undefined);
    const text = printable(new TextDecoder().decode(start?.bytes ?? new Uint8Array()));
    throw new RegistryError(`${what}: ${this.registry} answered ${res.status} ${text}`.trim(), { status: res.status });
  }
}

/** The largest manifest taken: the OCI distribution spec's limit a registry must accept (4 MiB). */
const MAX_MANIFEST_BYTES = 4 * 2 ** 20;

/**
 * Up to `max` bytes of a body (`whole`: all of it), then the rest is cancelled; a body that sends nothing for
 * `idleMs` fails (`no data for … ms`): after the headers, a stalled body would otherwise hang start-up for good.
 */
async function readAtMost(res: Response, max: number, idleMs: number): Promise<{ bytes: Uint8Array; whole: boolean }> {
  const reader = res.body?.getReader();
  if (!reader) return { bytes: new Uint8Array(), whole: true };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let whole = false;
  try {
    while (size <= max) {
      let timer: number | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`sent no data for ${idleMs} ms`)), idleMs);
      });
      const next = await Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer));
      if (next.done) {
        whole = true;
        break;
      }
      chunks.push(next.value);
      size += next.value.length;
    }
  } finally {
    if (!whole) await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, max));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, whole: whole && size <= max };
}

/** The longest Retry-After honoured: past it the attempts run out and, at start-up, the cache serves. */
const MAX_RETRY_AFTER_MS = 10_000;

/** A Retry-After header (seconds, or an HTTP date) in ms; 0 when absent or unreadable. */
function retryAfterMs(header: string | null): number {
  if (header === null) return 0;
  const seconds = /^\s*\d+\s*$/.test(header) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** A transfer that ended early, must start over, or was answered "not now"; retried (after `retryAfterMs`). */
class NetworkCut extends Error {
  constructor(message: string, readonly retryAfterMs = 0) {
    super(message);
  }
}

/** Aborts `controller` when nothing has happened for `ms`. */
class IdleTimer {
  #timer: number;
  readonly #controller: AbortController;
  readonly #ms: number;
  constructor(controller: AbortController, ms: number) {
    this.#controller = controller;
    this.#ms = ms;
    this.#timer = this.#arm();
  }
  touch(): void {
    clearTimeout(this.#timer);
    this.#timer = this.#arm();
  }
  stop(): void {
    clearTimeout(this.#timer);
  }
  #arm(): number {
    return setTimeout(() => this.#controller.abort(new Error(`no data for ${this.#ms} ms`)), this.#ms);
  }
}

/** The origin of a challenge's token realm, for messages (printable: it comes from the registry). */
function tokenOrigin(challenge: Challenge): string {
  try {
    return new URL(challenge.params.realm).origin;
  } catch {
    return printable(challenge.params.realm ?? "");
  }
}

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A running sha256 seeded with a file's bytes, read in chunks. */
async function fileHash(path: string) {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash;
}

async function fileDigest(path: string): Promise<string> {
  return `sha256:${(await fileHash(path)).digest("hex")}`;
}

/** Deletes a partial download; returns its new size (0). */
async function restart(partial: string): Promise<number> {
  await Deno.remove(partial).catch(() => {});
  return 0;
}

function contentRangeStart(res: Response): number | undefined {
  const m = /bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
  return m ? Number(m[1]) : undefined;
}

/** A request cut off by a timer here (its reason), or aborted; not a RegistryError that reports one. */
function isAbort(err: unknown): boolean {
  return err instanceof DOMException && (err.name === "AbortError" || err.name === "TimeoutError") ||
    (err instanceof Error && !(err instanceof RegistryError) && /^(no answer|no data for)/.test(err.message));
}

async function writeAll(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  for (let off = 0; off < chunk.length;) off += await file.write(chunk.subarray(off));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
