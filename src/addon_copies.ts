/**
 * @module
 * Imported first by main.ts, for its side effect. In the binary, Deno extracts a copy of a native addon (libSQL's,
 * loaded as the log code is imported; onnxruntime's binding) into $TMPDIR under a random name each time one loads,
 * and never removes it: 10 MB a start. Before any addon loads, this points TMPDIR at a folder of this process's own
 * ($TMPDIR/tern-addons-XXXX, mode 0700); `removeAddonCopies` empties it once the addons are loaded (they stay
 * mapped), and the folder goes at exit. An addon can also load later, in a worker started after start-up (the log
 * reader on the first `/logs` or Ops upload: libSQL, 9.7 MB; a model's thread after a pipeline swap: onnxruntime's
 * binding): `sweepAddonCopies` removes those copies once they are LOADED_AFTER_MS old. Native libraries tern
 * extracts itself stay in the original temp folder (engine/embedded.ts). A temp folder outside /tmp, where the
 * binary may not load native code, stops it (exit 2). From source it does nothing.
 */
import { ADDON_PREFIX, tempFolder } from "./engine/embedded.ts";

let folder: string | undefined;

if (Deno.build.standalone) {
  // The binary's embedded files and the libraries extracted from it live in the temp folder; the permission set
  // lets native code load only from /tmp. Said here, before the first addon loads with an uncaught NotCapable.
  const tmp = tempFolder();
  if (
    !["write", "ffi"].every((name) =>
      Deno.permissions.querySync({ name, path: tmp } as Deno.PermissionDescriptor).state === "granted"
    )
  ) {
    console.error(
      `tern: TMPDIR='${tmp}': tern loads its native libraries from the temp folder, which it may only do under /tmp: unset TMPDIR or point it under /tmp`,
    );
    Deno.exit(2);
  }
  try {
    folder = Deno.makeTempDirSync({ dir: tempFolder(), prefix: ADDON_PREFIX });
    Deno.env.set("TMPDIR", folder);
    const made = folder;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(made, { recursive: true });
      } catch { /* gone already */ }
    });
  } catch {
    folder = undefined; // the temp folder is not writable: the addons go where Deno puts them
  }
}

/**
 * A copy is this old (ms since it was written) only once it is loaded: Deno writes a copy and loads it in the same
 * synchronous call, so a sweep never takes one from under a thread about to load it.
 */
const LOADED_AFTER_MS = 5_000;

/** Deletes the addon copies extracted so far, or those at least `olderThanMs` old; loaded addons stay loaded. */
export function removeAddonCopies(olderThanMs = 0): void {
  if (folder === undefined) return;
  for (const entry of Deno.readDirSync(folder)) {
    const path = `${folder}/${entry.name}`;
    try {
      const written = olderThanMs > 0 ? Deno.statSync(path).mtime?.getTime() : undefined;
      if (written !== undefined && Date.now() - written < olderThanMs) continue;
      Deno.removeSync(path, { recursive: true });
    } catch { /* in use, or gone already */ }
  }
}

/**
 * Every LOADED_AFTER_MS, deletes the copies later loads left that are that old (a readdir of an empty folder when
 * there are none). The timer does not keep the process alive.
 */
export function sweepAddonCopies(): void {
  if (folder === undefined) return;
  Deno.unrefTimer(setInterval(() => removeAddonCopies(LOADED_AFTER_MS), LOADED_AFTER_MS));
}
