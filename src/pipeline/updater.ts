/**
 * @module
 * In-line updates: follows PIPELINE_URL and serves each new version without a
 * restart or a dropped request. A tag is checked every PIPELINE_FOLLOW_INTERVAL
 * (one manifest request); a digest never changes, so it is never checked.
 * When the tag names another manifest, the new version is pulled, loaded and
 * warmed beside the one serving (PipelineManager.prepare) and swapped in at
 * once; requests under way finish on the old one, which is then released. A
 * version that fails to pull or load leaves the old one serving and is
 * reported (`/pipelines`, `/models`, a log line); one that failed to load is
 * not tried again until the tag moves, one that failed to pull (the registry
 * away, a missing blob) is tried again at the next check, except that a
 * registry serving a layer whose bytes fail its digest is asked again after
 * REPULL_BACKOFF_MS, doubling to REPULL_BACKOFF_MAX_MS (each try downloads the
 * layer again, on what may be a metered link). Ops
 * hands over URLs with `follow(url)`, again at each check-in until that URL
 * serves; a model whose worker thread died is loaded again by the same path
 * (`reload`, from the URL serving), and when that fails, again by itself after
 * RELOAD_BACKOFF_MS (doubling to RELOAD_BACKOFF_MAX_MS) and not sooner: each
 * request to the dead model would otherwise ask for another whole load, and
 * with tern not ready meanwhile, no request may come to ask. One update runs
 * at a time.
 */
import { errorText } from "../errors.ts";
import { Backoff } from "../ops/backoff.ts";
import { RegistryError } from "../registry/errors.ts";
import type { PipelineFollower, PipelineManager } from "./manager.ts";
import type { PipelineDefinition } from "./spec.ts";

/** Where pipelines come from (serve.ts: the registry and its cache, or the built-in demo). */
export interface PipelineSource {
  /** The digest `url` pins, undefined for a tag: a digest never changes, so it is never checked. */
  pinnedDigest(url: string): string | undefined;
  /** The digest of the manifest `url` names now (one request). */
  digest(url: string): Promise<string>;
  /** The pipeline at `url`, pulled; undefined: the built-in demo. */
  fetch(url: string | undefined): Promise<PipelineDefinition>;
  /** `definition` serves now: an offline start serves it (the registry's cache records it). */
  served?(definition: PipelineDefinition): Promise<void>;
}

/** The first wait after a reload that failed; each failure after it doubles the wait. */
export const RELOAD_BACKOFF_MS = 5_000;
/** The longest wait between reloads that fail. */
export const RELOAD_BACKOFF_MAX_MS = 5 * 60_000;

/** The first wait before a version whose layer came corrupt is pulled again; each failure after it doubles it. */
export const REPULL_BACKOFF_MS = 60_000;
/** The longest wait between pulls of a version whose layers keep coming corrupt. */
export const REPULL_BACKOFF_MAX_MS = 60 * 60_000;

/** What the updater needs. */
export interface UpdaterOptions {
  pipelines: PipelineManager;
  source: PipelineSource;
  /** ms between checks of a tag; 0: never. */
  intervalMs: number;
  /** The first wait after a failed reload (default RELOAD_BACKOFF_MS). */
  reloadBackoffMs?: number;
  /** The clock for the waits before a corrupt version is pulled again (default Date.now). */
  now?: () => number;
  info(line: string): void;
  error(line: string): void;
}

/** Follows the pipeline's URL and swaps in new versions (see the module doc). */
export class PipelineUpdater implements PipelineFollower {
  readonly #o: UpdaterOptions;
  #url: string | undefined;
  /** The URL of the pipeline serving, which differs from `#url` while a new one is not (yet) pulled and loaded. */
  #servingUrl: string | undefined;
  /** Digest of the manifest serving (as the registry named it when pulled). */
  #servedDigest: string | undefined;
  /** The pipeline manifest's own digest of the version serving (differs from #servedDigest for an index). */
  #servedManifest: string | undefined;
  /** A tag digest whose pull gave the version serving (the cache's): said once. */
  #unchanged: string | undefined;
  /** A digest that failed to load: not tried again until the tag names another. */
  #failedDigest: string | undefined;
  /** A digest whose layer came corrupt: not pulled again before `until`. */
  #corrupt: { digest: string; until: number } | undefined;
  /** The clock of those waits (UpdaterOptions.now). */
  readonly #now: () => number;
  /** The waits before a corrupt digest is pulled again: doubling, without jitter. */
  readonly #repullBackoff = new Backoff(REPULL_BACKOFF_MS, REPULL_BACKOFF_MAX_MS, () => 1);
  /** The last check's failure, reported once until checks succeed again. */
  #checkError: string | undefined;
  #queue: Promise<void> = Promise.resolve();
  #timer: number | undefined;
  #reloading = false;
  /** After a failed reload: the next one. */
  #reloadTimer: number | undefined;
  /** The waits between reloads that fail: doubling, without jitter (this process alone reloads). */
  readonly #reloadBackoff: Backoff;
  #stopped = false;
  #started = false;

  constructor(options: UpdaterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#reloadBackoff = new Backoff(options.reloadBackoffMs ?? RELOAD_BACKOFF_MS, RELOAD_BACKOFF_MAX_MS, () => 1);
  }

  /** The PIPELINE_URL followed (undefined: the built-in demo). */
  get url(): string | undefined {
    return this.#url;
  }

  /** The URL of the pipeline serving (what Ops is told is in use; undefined: the built-in demo). */
  get servingUrl(): string | undefined {
    return this.#servingUrl;
  }

  /**
   * Follows `url` (whose manifest `digest` now serves; `manifest`: the pipeline manifest's own digest where `digest`
   * names an index), checking a tag every interval.
   */
  start(url: string | undefined, digest?: string, manifest?: string): void {
    this.#started = true;
    this.#url = this.#servingUrl = url;
    this.#servedDigest = digest;
    this.#servedManifest = manifest ?? digest;
    this.#schedule();
  }

  /**
   * Serves the pipeline at `url` from now on (Ops check-ins call this with the
   * PIPELINE_URL they assign): pulled, loaded and swapped in unless it already
   * serves; resolves once it serves or has failed (the old one then serves on).
   */
  follow(url: string): Promise<void> {
    return this.#serial(async () => {
      const changed = url !== this.#url;
      this.#url = url;
      if (changed) {
        this.#failedDigest = undefined;
        this.#o.info(`Following pipeline ${url}`);
        const pinned = this.#o.source.pinnedDigest(url);
        if (!pinned || !this.#waitsToRepull(pinned)) await this.#update(url, undefined, pinned);
        else {
          this.#o.error(
            `${url}: a layer of it came corrupt from the registry; it is pulled again from ${
              new Date(this.#corrupt!.until).toISOString()
            }`,
          );
        }
      } else {
        const pinned = this.#o.source.pinnedDigest(url);
        if (!pinned || url === this.#servingUrl) await this.#check();
        // A pinned URL not serving yet failed to pull (tried again) or to load (not: a digest never changes).
        else if (this.#failedDigest !== pinned && !this.#waitsToRepull(pinned)) {
          await this.#update(url, undefined, pinned);
        }
      }
      this.#schedule();
    });
  }

  /** Checks the followed tag now (what each interval does). */
  check(): Promise<void> {
    return this.#serial(() => this.#check());
  }

  /**
   * Loads the pipeline again by the update path and swaps it in (a model's
   * worker thread died); asks made while one is pending are the same one.
   */
  reload(why: string): Promise<void> {
    if (this.#reloading) return this.#queue;
    if (this.#stopped) return Promise.resolve(); // shutting down: the models are being closed
    // Before start() the first load is under way: its failure is reported by start-up itself.
    if (!this.#started) return Promise.resolve();
    if (this.#reloadTimer !== undefined) return Promise.resolve(); // the next try is set
    this.#reloading = true;
    return this.#serial(async () => {
      this.#reloading = false;
      this.#reloadTimer = undefined;
      // What serves when the reload runs (an Ops assignment may have swapped in another meanwhile, whole).
      if (this.#o.pipelines.stoppedModel === undefined) return;
      const url = this.#servingUrl;
      this.#o.error(`${why}: loading pipeline ${url ?? "(built-in demo)"} again`);
      if (await this.#update(url, undefined)) return;
      const wait = this.#reloadBackoff.next();
      this.#o.error(`The reload failed: the next one in ${wait / 1000} s`);
      this.#reloadTimer = setTimeout(() => {
        this.#reloadTimer = undefined;
        if (this.#o.pipelines.stoppedModel !== undefined) void this.reload(why);
      }, wait);
    });
  }

  /** Stops checking and reloading (at shutdown); an update under way finishes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#reloadTimer);
    await this.#queue;
  }

  #serial(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const url = this.#url;
    if (this.#stopped || !url || this.#o.intervalMs <= 0 || this.#o.source.pinnedDigest(url)) return;
    this.#timer = setTimeout(() => {
      void this.check().finally(() => this.#schedule());
    }, this.#o.intervalMs);
  }

  async #check(): Promise<void> {
    const url = this.#url;
    if (!url || this.#o.source.pinnedDigest(url)) return;
    let digest: string;
    try {
      digest = await this.#o.source.digest(url);
    } catch (err) {
      const message = errorText(err);
      if (message !== this.#checkError) this.#o.error(`Cannot check ${url} for a new version: ${message}`);
      this.#checkError = message;
      return;
    }
    if (this.#checkError !== undefined) this.#o.info(`${url} can be checked again`);
    this.#checkError = undefined;
    if (digest === this.#servedDigest || digest === this.#failedDigest || this.#waitsToRepull(digest)) return;
    this.#o.info(`Pipeline ${url} names a new version (${digest}): pulling it`);
    await this.#update(url, digest);
  }

  /** Whether `digest` came corrupt and its wait before another pull is not over. */
  #waitsToRepull(digest: string): boolean {
    return this.#corrupt?.digest === digest && this.#now() < this.#corrupt.until;
  }

  /**
   * Pulls, loads and swaps in the pipeline at `url`; a failure leaves the one serving. True when it serves.
   * `digest`: what the tag names now; `pulled`: the manifest digest to wait on if a layer comes corrupt.
   */
  async #update(url: string | undefined, digest: string | undefined, pulled = digest): Promise<boolean> {
    const { pipelines } = this.#o;
    const old = pipelines.current;
    const serving = old ? `; still serving ${old.name} version ${old.version}` : "";
    let definition: PipelineDefinition;
    try {
      definition = await this.#o.source.fetch(url);
    } catch (err) {
      let message = errorText(err);
      const corrupt = err instanceof RegistryError && err.corrupt;
      // A tag Ops handed over is pulled before its digest is known: asked now (one manifest request), to wait on it.
      if (corrupt && pulled === undefined && url) pulled = await this.#o.source.digest(url).catch(() => undefined);
      if (corrupt && pulled !== undefined) {
        if (this.#corrupt?.digest !== pulled) this.#repullBackoff.reset();
        const wait = this.#repullBackoff.next();
        this.#corrupt = { digest: pulled, until: this.#now() + wait };
        message += `; ${pulled} is not pulled again for ${wait / 60_000} min`;
      }
      if (old) pipelines.failUpdate(`cannot pull ${url}: ${message}`, url);
      else pipelines.fail(`cannot pull ${url}: ${message}`);
      this.#o.error(`Update to ${url} failed: cannot pull it: ${message}${serving}`);
      return false;
    }
    const what = `${definition.name} version ${definition.version}`;
    const got = definition.source;
    const same = got && (got.digest === this.#servedDigest || (got.manifest ?? got.digest) === this.#servedManifest);
    if (digest !== undefined && old && same) {
      // The tag names a new version, but what came is the one serving: the cache's, as the registry could not give
      // the new one. Loading it again would change nothing; the next check tries the pull again.
      if (this.#unchanged !== digest) {
        this.#o.error(`Update to ${url} (${digest}) could not be pulled; ${what} serves on and is tried again`);
      }
      this.#unchanged = digest;
      return false;
    }
    this.#unchanged = undefined;
    const started = performance.now();
    let next;
    try {
      next = await pipelines.prepare(definition);
    } catch (err) {
      this.#failedDigest = definition.source?.digest ?? digest;
      this.#o.error(`Update to ${url ?? "the built-in demo"} (${what}) failed to load: ${errorText(err)}${serving}`);
      return false;
    }
    const drained = pipelines.swap(next);
    this.#servingUrl = url;
    this.#o.source.served?.(definition).catch((err) =>
      this.#o.error(`Recording ${what} as the version to start from failed: ${errorText(err)}`)
    );
    // A reload's backoff was for the pipeline that served: this one starts afresh.
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = undefined;
    this.#reloadBackoff.reset();
    this.#servedDigest = definition.source?.digest ?? digest;
    this.#servedManifest = definition.source?.manifest ?? this.#servedDigest;
    this.#failedDigest = undefined;
    this.#corrupt = undefined;
    this.#o.info(
      `Pipeline ${what} is Running, loaded beside the old one in ${Math.round(performance.now() - started)} ms${
        old ? ` (replacing ${old.name} version ${old.version})` : ""
      }`,
    );
    if (old && old !== next) {
      void drained.then(() => this.#o.info(`Released ${old.name} version ${old.version}`));
    }
    return true;
  }
}
