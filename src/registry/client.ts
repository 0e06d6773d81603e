/**
 * @module
 * An OCI Distribution client for what tern needs: manifests (OCI image
 * manifest and index, Docker schema 2 and manifest list), blobs streamed to
 * disk with their sha256 computed on the way and their size checked, resumed
 * with Range after a dropped connection, retried with backoff on 5xx and
 * network errors; blob upload and manifest push for `tern publish`.
 * HTTPS, except for loopback registries or with `plainHttp`.
 */
import { createHash } from "node:crypto";
import { AuthError, basicHeader, type Credentials, fetchToken, parseChallenge } from "./auth.ts";
import { DIGEST, isLoopback } from "./reference.ts";

/** Media types tern reads as manifests, in Accept order. */
export const MANIFEST_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
];

/** A failure talking to the registry; `unreachable` when no answer came at all. */
export class RegistryError extends Error {
  readonly unreachable: boolean;
  readonly status?: number;
  constructor(message: string, options: { unreachable?: boolean; status?: number } = {}) {
    super(message);
    this.name = "RegistryError";
    this.unreachable = options.unreachable ?? false;
    this.status = options.status;
  }
}

/** Client settings. */
export interface RegistryClientOptions {
  /** `host[:port]`. */
  registry: string;
  credentials?: Credentials;
  /** Plain HTTP for a non-loopback registry (explicit opt-in). */
  plainHttp?: boolean;
  /** Start-up lines (`Login Succeeded`). */
  log?: (line: string) => void;
  /**
   * Attempts of one GET/HEAD on 5xx or network errors (default 3: an absent
   * registry costs 0.6 s before tern falls back to its cache). A blob transfer
   * gets this many more on top, each resuming where the last stopped.
   */
  attempts?: number;
  /** First backoff delay, doubled per attempt (default 200 ms). */
  backoffMs?: number;
  fetch?: typeof fetch;
}

/** A manifest as fetched: its bytes, their digest and media type. */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

/** Talks to one registry. */
export class RegistryClient {
  readonly registry: string;
  readonly #base: string;
  readonly #options: RegistryClientOptions;
  readonly #fetch: typeof fetch;
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();
  #useBasic = false;
  #announcedLogin = false;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    const scheme = options.plainHttp || isLoopback(options.registry) ? "http" : "https";
    this.#base = `${scheme}://${options.registry}`;
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
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    const claimed = DIGEST.test(reference) ? reference : res.headers.get("docker-content-digest");
    if (claimed && claimed !== digest) {
      throw new RegistryError(`manifest ${repository}:${reference} has digest ${digest}, not ${claimed}: refused`);
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
    return { digest, mediaType, bytes };
  }

  /**
   * Streams blob `digest` (of `size` bytes) into `dest`, hashing as it goes;
   * resumes a `.partial` file with Range; writes `dest` only when complete and
   * verified (temp file + rename). `onProgress` gets the bytes held so far.
   */
  async downloadBlob(
    repository: string,
    digest: string,
    size: number,
    dest: string,
    onProgress?: (bytes: number) => void,
  ): Promise<void> {
    if (!DIGEST.test(digest)) throw new RegistryError(`refusing blob with malformed digest '${digest}'`);
    const partial = `${dest}.partial`;
    const attempts = 2 * (this.#options.attempts ?? 3);
    for (let attempt = 1;; attempt++) {
      let have = await Deno.stat(partial).then((s) => s.size).catch(() => 0);
      if (have > size) {
        await Deno.remove(partial);
        have = 0;
      }
      try {
        const res = await this.#send("GET", `/v2/${repository}/blobs/${digest}`, repository, "pull", {
          headers: have > 0 ? { range: `bytes=${have}-` } : {},
        });
        if (res.status === 404) {
          await res.body?.cancel();
          throw new RegistryError(`blob ${digest} is missing from ${this.registry}/${repository}`, { status: 404 });
        }
        await this.#expectOk(res, `fetching blob ${digest}`);
        const resumed = res.status === 206;
        const hash = createHash("sha256");
        if (resumed) hash.update(await Deno.readFile(partial));
        const file = await Deno.open(partial, { write: true, create: true, truncate: !resumed, append: resumed });
        let written = resumed ? have : 0;
        try {
          for await (const chunk of res.body!) {
            written += chunk.length;
            if (written > size) throw new RegistryError(`blob ${digest} is larger than the ${size} bytes declared`);
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
          await Deno.remove(partial);
          throw new RegistryError(`blob ${digest} does not match its digest (got ${actual}): refused`);
        }
        await Deno.rename(partial, dest);
        return;
      } catch (err) {
        const retryable = err instanceof NetworkCut || (err instanceof RegistryError && err.unreachable) ||
          (err instanceof RegistryError && (err.status ?? 0) >= 500) || err instanceof TypeError;
        if (!retryable || attempt >= attempts) throw err;
        await delay((this.#options.backoffMs ?? 200) * 2 ** (attempt - 1));
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
    const put = await this.#send("PUT", url.pathname + url.search, repository, "pull,push", {
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

  /** Sends one request with auth (answering a 401 challenge once), retrying GET/HEAD on 5xx and network errors. */
  async #send(
    method: string,
    path: string,
    repository: string,
    actions: string,
    init: { headers?: Record<string, string>; body?: Uint8Array } = {},
  ): Promise<Response> {
    const scope = `repository:${repository}:${actions}`;
    const idempotent = method === "GET" || method === "HEAD";
    const attempts = idempotent ? this.#options.attempts ?? 3 : 1;
    for (let attempt = 1;; attempt++) {
      try {
        let res = await this.#fetchWithAuth(method, path, scope, init);
        if (res.status === 401) {
          const challenge = parseChallenge(res.headers.get("www-authenticate"));
          await res.body?.cancel();
          await this.#answer(challenge, scope);
          res = await this.#fetchWithAuth(method, path, scope, init);
          if (res.status === 401) {
            await res.body?.cancel();
            throw new AuthError(this.#options.credentials, this.registry);
          }
        }
        if (res.status >= 500 && attempt < attempts) {
          await res.body?.cancel();
          await delay((this.#options.backoffMs ?? 200) * 2 ** (attempt - 1));
          continue;
        }
        if (res.ok && !this.#announcedLogin && this.#options.credentials && (this.#useBasic || this.#tokens.size)) {
          this.#announcedLogin = true;
          this.#options.log?.("Login Succeeded");
        }
        return res;
      } catch (err) {
        if (!(err instanceof TypeError)) throw err;
        if (attempt >= attempts) {
          throw new RegistryError(`registry ${this.registry} is unreachable: ${err.message}`, { unreachable: true });
        }
        await delay((this.#options.backoffMs ?? 200) * 2 ** (attempt - 1));
      }
    }
  }

  async #answer(challenge: ReturnType<typeof parseChallenge>, scope: string): Promise<void> {
    const credentials = this.#options.credentials;
    if (challenge?.scheme === "bearer") {
      this.#tokens.set(scope, await fetchToken(challenge, scope, credentials, this.#fetch));
    } else {
      if (!credentials) throw new AuthError(undefined, this.registry);
      this.#useBasic = true;
    }
  }

  #fetchWithAuth(
    method: string,
    path: string,
    scope: string,
    init: { headers?: Record<string, string>; body?: Uint8Array },
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    const token = this.#tokens.get(scope);
    if (token && token.expiresAt > Date.now()) headers.authorization = `Bearer ${token.token}`;
    else if (this.#useBasic && this.#options.credentials) {
      headers.authorization = basicHeader(this.#options.credentials);
    }
    return this.#fetch(`${this.#base}${path}`, {
      method,
      headers,
      body: init.body as Uint8Array<ArrayBuffer> | undefined,
    });
  }

  async #expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    const text = (await res.text()).slice(0, 300);
    throw new RegistryError(`${what}: ${this.registry} answered ${res.status} ${text}`.trim(), {
      status: res.status,
    });
  }
}

/** A transfer that ended early; retried. */
class NetworkCut extends Error {}

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

async function writeAll(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  for (let off = 0; off < chunk.length;) off += await file.write(chunk.subarray(off));
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
