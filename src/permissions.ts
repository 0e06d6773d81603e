/**
 * @module
 * tern runs with one fixed permission set (deno.json's `tern` task, shared by `deno task start`, the compiled binary
 * and the tests): it may write only its state folders and the temp folder. A configured folder outside them would fail
 * deep in the log store with a bare permission error; this names the variable at start-up instead (exit 2), before
 * anything is written, as it does for a folder that is a file or that this process cannot write. (The binary's temp
 * folder is checked earlier, in addon_copies.ts, since native addons load as modules are imported.)
 */
import type { Config } from "./config.ts";
import { ConfigError } from "./errors.ts";

/** The folders the permission set lets tern write, as deno.json lists them (for messages). */
export const WRITABLE_FOLDERS = ["/persist", "./persist", "/var/lib/tern", "./hub-state", "/tmp"] as const;

/** The folders (besides those it may write) whose files tern may read, as deno.json lists them (for messages). */
export const READABLE_FOLDERS = [
  "the folder tern is started in",
  "/run/secrets",
  "/var/run/secrets",
  "/opt",
  "/usr/local/lib",
  "/usr/lib",
] as const;

/**
 * A failure's text with Deno's advice for a denied read or write (recompile, or run again with a flag) replaced by
 * what a user of tern can do: name a file in a folder tern may read or write.
 */
export function withPermissionHint(text: string): string {
  const denied = /(Requires (read|write) access to "[^"]*"),? (run again with|specify the required permissions)[^\n]*/;
  const match = text.match(denied);
  if (!match) return text;
  const hint = match[2] === "read"
    ? `tern reads files only in ${READABLE_FOLDERS.join(", ")} and ${WRITABLE_FOLDERS.join(", ")}: ` +
      "run it from the folder holding the file"
    : `tern writes only in ${WRITABLE_FOLDERS.join(", ")}`;
  return text.replace(denied, `${match[1]}: ${hint}`);
}

/** True when this process may write `path` (a folder, existing or not). */
export function mayWrite(path: string): boolean {
  return Deno.permissions.querySync({ name: "write", path }).state === "granted";
}

/**
 * Throws a ConfigError naming the variable when a folder tern would write is outside the permission set or is a
 * file, or when ONNXRUNTIME_LIB_DIR holds no onnxruntime.
 */
export function checkFolders(config: Config): void {
  const folders: [string, string | undefined][] = [];
  if (config.command === "serve" || config.command === "pull") {
    folders.push(["PERSISTENT_VOLUME_DIR", config.persistentVolumeDir]);
  }
  if (config.command === "hub" && config.hub?.databaseUrl === undefined) {
    folders.push(["HUB_STATE_DIR", config.hub?.stateDir]);
  }
  for (const [name, path] of folders) {
    if (path !== undefined && !mayWrite(path)) {
      throw new ConfigError(
        `${name}='${path}' is outside the folders tern may write (${
          WRITABLE_FOLDERS.join(", ")
        }, and folders inside them): use one of them (mount the volume there)`,
      );
    }
    if (path !== undefined) writableFolder(name, path);
  }
  // Under INFERENCE_BACKEND=auto a folder without onnxruntime would only drop native and CUDA, and serve on WASM,
  // several times slower. (`tern backends` reports it as it is: it is how one looks into such a setting.)
  const libDir = config.onnxruntimeLibDir;
  if (libDir !== undefined && config.command === "serve" && config.inferenceBackend !== "wasm") {
    const library = `${libDir.replace(/\/+$/, "")}/libonnxruntime.so.1`;
    try {
      Deno.statSync(library);
    } catch (err) {
      throw new ConfigError(
        err instanceof Deno.errors.NotCapable
          ? `ONNXRUNTIME_LIB_DIR='${libDir}' is outside the folders tern may read (${READABLE_FOLDERS.join(", ")})`
          : `ONNXRUNTIME_LIB_DIR='${libDir}' holds no libonnxruntime.so.1 (${(err as Error).name})`,
      );
    }
  }
}

/**
 * Throws a ConfigError naming the variable when its folder is a file, or a folder this process cannot write (a volume
 * owned by root, a read-only mount): the log store would fail later with a bare SQLite code. A missing folder is made
 * later.
 */
function writableFolder(name: string, path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return; // missing (made later) or not readable: the store says which, with the path
  }
  if (!info.isDirectory) throw new ConfigError(`${name}='${path}' is a file, not a folder`);
  let probe: string;
  try {
    probe = Deno.makeTempFileSync({ dir: path, prefix: ".tern-write-check-" });
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/\s*\(os error \d+\)[\s\S]*$/, "") : String(err);
    const fix = err instanceof Deno.errors.PermissionDenied
      ? ": give it to that user (in a container: chown 10001:10001 the host folder or volume)"
      : /read-only/i.test(why)
      ? ": mount it read-write"
      : ""; // a full disk, an I/O error: the reason says it
    throw new ConfigError(
      `${name}='${path}' is a folder this process (uid ${Deno.uid() ?? "?"}) cannot write (${why})${fix}`,
    );
  }
  Deno.removeSync(probe);
}
