/**
 * @module
 * The pipeline cache in PERSISTENT_VOLUME_DIR/oci: blobs stored by digest
 * (`blobs/sha256/<hex>`, written atomically by the client), and for each
 * reference the digest of its last good manifest (`refs/<sha256 of the
 * reference>`), so tern starts from the cache when the registry is away.
 * Every read is checked against its digest; a corrupt blob is deleted.
 */
import { createHash } from "node:crypto";
import { sha256Digest } from "./client.ts";
import { DIGEST } from "./reference.ts";

/** The content-addressed cache. */
export class ArtifactCache {
  readonly root: string;

  constructor(persistentVolumeDir: string) {
    this.root = `${persistentVolumeDir.replace(/\/+$/, "")}/oci`;
  }

  /** Where blob `digest` lives (the digest is validated: nothing else becomes a path). */
  blobPath(digest: string): string {
    if (!DIGEST.test(digest)) throw new Error(`refusing malformed digest '${digest}'`);
    return `${this.root}/blobs/sha256/${digest.slice(7)}`;
  }

  /** Creates the cache folders. */
  async prepare(): Promise<void> {
    await Deno.mkdir(`${this.root}/blobs/sha256`, { recursive: true });
    await Deno.mkdir(`${this.root}/refs`, { recursive: true });
  }

  /**
   * The blob's bytes if cached and intact; `corrupt` when a file is there but
   * does not match (it is deleted so it can be fetched again).
   */
  async read(digest: string, size?: number): Promise<{ bytes?: Uint8Array; corrupt?: boolean }> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.blobPath(digest));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return {};
      throw err;
    }
    const actual = sha256Digest(bytes);
    if (actual !== digest || (size !== undefined && bytes.length !== size)) {
      await Deno.remove(this.blobPath(digest)).catch(() => {});
      return { corrupt: true };
    }
    return { bytes };
  }

  /** Stores bytes whose digest the caller has computed. */
  async write(digest: string, bytes: Uint8Array): Promise<void> {
    const path = this.blobPath(digest);
    await Deno.writeFile(`${path}.tmp`, bytes);
    await Deno.rename(`${path}.tmp`, path);
  }

  /** Records `manifestDigest` as the last good manifest of `reference`. */
  async saveRef(reference: string, manifestDigest: string): Promise<void> {
    const path = this.#refPath(reference);
    await Deno.writeTextFile(`${path}.tmp`, JSON.stringify({ reference, manifest: manifestDigest }));
    await Deno.rename(`${path}.tmp`, path);
  }

  /** The last good manifest digest of `reference`, if any. */
  async loadRef(reference: string): Promise<string | undefined> {
    try {
      const saved = JSON.parse(await Deno.readTextFile(this.#refPath(reference)));
      return typeof saved.manifest === "string" && DIGEST.test(saved.manifest) ? saved.manifest : undefined;
    } catch {
      return undefined;
    }
  }

  #refPath(reference: string): string {
    return `${this.root}/refs/${createHash("sha256").update(reference).digest("hex")}.json`;
  }
}
