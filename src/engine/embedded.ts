/**
 * @module
 * The large runtime files (onnxruntime's native library, ort-web's WASM
 * builds) as the compiled binary carries them: zstd-compressed in
 * `build/embed/`, written by scripts/compile.sh, which leaves the originals
 * out (87 MB; 20 MB compressed). The binary reads all it carries at every
 * start, about 7 ms a MB on 2 cores, so zstd's smaller copies (gzip's took
 * 27.7 MB) shorten every start; they are decompressed when used. From source the package's own files are
 * used. The native library is inflated once into a folder of the temp
 * directory named by its content, reused by later starts and by other tern
 * processes of the same build (README, "Files written at start").
 * Deno's own copies of the native addons are kept in a folder of the process's
 * own and removed once loaded (addon_copies.ts).
 */
import { Decompress } from "fzstd";
import { errorText } from "../errors.ts";

/** Where scripts/compile.sh writes the compressed copies (embedded in the binary with `--include`). */
const EMBED_DIR = new URL("../../build/embed/", import.meta.url);

/** What compile.sh recorded of each compressed file: its name → sha256 and size of the original. */
type Manifest = Record<string, { sha256: string; size: number }>;

/** Prefix of the extraction folders in the temp directory. */
export const EXTRACT_PREFIX = "tern-native-";

/**
 * The bytes of a runtime file: the original when it is there (source), else
 * its compressed copy in build/embed (the binary). Throws naming both.
 */
export async function runtimeFileBytes(original: URL, name: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await Deno.readFile(original);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const entry = (await manifest())[name];
  if (!entry) throw new Error(`${original.pathname} is not in this build (no ${name} in build/embed)`);
  return await inflate(name, entry.size);
}

/**
 * The path of a native library to dlopen: `original` when it is there
 * (source), else the compressed copy `name` inflated into
 * `$TMPDIR/tern-native-<sha256>/` (a folder only this user may write; reused
 * when it already holds the file, whole).
 */
export async function nativeLibraryPath(original: string, name: string): Promise<string> {
  try {
    Deno.statSync(original);
    return original;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const entry = (await manifest())[name];
  if (!entry) throw new Error(`${original} is not in this build (no ${name} in build/embed)`);
  const tmp = tempFolder();
  const dir = `${tmp}/${EXTRACT_PREFIX}${entry.sha256.slice(0, 16)}`;
  const path = `${dir}/${original.slice(original.lastIndexOf("/") + 1)}`;
  if (ownedFolder(dir) && fileSize(path) === entry.size) return path;
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  if (!ownedFolder(dir)) {
    throw new Error(`${dir} exists but is not a folder of this user with mode 0700: remove it, or set TMPDIR`);
  }
  const part = `${path}.${crypto.randomUUID()}.part`;
  try {
    await Deno.writeFile(part, await inflate(name, entry.size), { mode: 0o500 });
    await Deno.rename(part, path);
  } catch (err) {
    await Deno.remove(part).catch(() => {});
    throw new Error(`cannot extract ${name} into ${dir}: ${errorText(err)}`);
  }
  removeOtherBuilds(tmp, dir);
  return path;
}

/** Prefix of the folder of a tern process's own where Deno puts its copies of the native addons (addon_copies.ts). */
export const ADDON_PREFIX = "tern-addons-";

/** The temp folder (TMPDIR, else /tmp); while addon_copies.ts's folder is TMPDIR, the folder holding it. */
export function tempFolder(): string {
  const tmp = (Deno.env.get("TMPDIR") || "/tmp").replace(/\/+$/, "") || "/";
  const at = tmp.lastIndexOf("/");
  return tmp.slice(at + 1).startsWith(ADDON_PREFIX) ? tmp.slice(0, at) || "/" : tmp;
}

/** Compressed bytes handed to zstd at a time: the serving thread yields between them (a few ms each). */
const INFLATE_CHUNK = 1 << 20;

/** The original bytes of build/embed's `name`.zst, `size` long, decompressed a chunk at a time. */
async function inflate(name: string, size: number): Promise<Uint8Array<ArrayBuffer>> {
  const packed = await Deno.readFile(new URL(`${name}.zst`, EMBED_DIR));
  const out = new Uint8Array(size);
  let filled = 0;
  const stream = new Decompress((chunk) => {
    if (filled + chunk.length > size) throw new Error(`${name}: more than the ${size} bytes the build recorded`);
    out.set(chunk, filled);
    filled += chunk.length;
  });
  for (let at = 0; at < packed.length; at += INFLATE_CHUNK) {
    stream.push(packed.subarray(at, at + INFLATE_CHUNK), at + INFLATE_CHUNK >= packed.length);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (filled !== size) throw new Error(`${name}: ${filled} bytes, not the ${size} the build recorded`);
  return out;
}

let manifestRead: Promise<Manifest> | undefined;

function manifest(): Promise<Manifest> {
  return manifestRead ??= Deno.readTextFile(new URL("manifest.json", EMBED_DIR)).then(
    (text) => JSON.parse(text) as Manifest,
    () => ({}),
  );
}

/** True when `dir` is a real folder (not a link) of this user that no one else may write. */
function ownedFolder(dir: string): boolean {
  try {
    const info = Deno.lstatSync(dir);
    return info.isDirectory && info.uid === Deno.uid() && ((info.mode ?? 0) & 0o077) === 0;
  } catch {
    return false;
  }
}

function fileSize(path: string): number | undefined {
  try {
    return Deno.statSync(path).size;
  } catch {
    return undefined;
  }
}

/** Removes this user's extraction folders of other builds (a library already loaded stays mapped). */
function removeOtherBuilds(tmp: string, keep: string): void {
  try {
    for (const entry of Deno.readDirSync(tmp)) {
      const dir = `${tmp}/${entry.name}`;
      if (entry.name.startsWith(EXTRACT_PREFIX) && dir !== keep && ownedFolder(dir)) {
        try {
          Deno.removeSync(dir, { recursive: true });
        } catch { /* in use by a starting tern of that build, or gone already */ }
      }
    }
  } catch { /* the temp folder cannot be listed: nothing to clean */ }
}
