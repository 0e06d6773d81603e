/**
 * @module
 * Entry point of `tern` (compiled) and `deno task tern` (source): parse
 * argv/env into a Config and run the chosen command. A ConfigError exits 2.
 */
// First: it moves Deno's copies of native addons into a folder of this process's own before any addon loads.
import "./addon_copies.ts";
import { type Config, helpText, type MachineDefaults, parseConfig, readEnvironment } from "./config.ts";
import { ConfigError, errorText } from "./errors.ts";
import { useJsonLogLines } from "./log_lines.ts";
import { checkFolders, withPermissionHint } from "./permissions.ts";
import { buildCommit } from "./build_info.ts";
import denoJson from "../deno.json" with { type: "json" };

/** tern's version (deno.json). */
export const VERSION: string = denoJson.version;

function machineDefaults(): MachineDefaults {
  let persistentVolumeDir = "./persist";
  try {
    if (Deno.statSync("/persist").isDirectory) persistentVolumeDir = "/persist";
  } catch { /* no /persist: use ./persist */ }
  return { cpus: navigator.hardwareConcurrency || 1, persistentVolumeDir };
}

/**
 * Runs the command. Each command's modules load when it runs: `tern serve`
 * never evaluates the hub's (PostgreSQL driver, pages), and start-up is
 * shorter by what they cost.
 */
async function run(config: Config, machine: MachineDefaults): Promise<void> {
  switch (config.command) {
    case "help":
      console.log(helpText(machine));
      return;
    case "version":
      console.log(`tern ${VERSION} (deno ${Deno.version.deno}), commit ${buildCommit()}`);
      return;
    case "health":
      return await (await import("./health_command.ts")).runHealth(config);
    case "serve":
      return await (await import("./serve.ts")).serve(config);
    case "pull":
      return await (await import("./registry_commands.ts")).runPull(config);
    case "publish":
      return await (await import("./registry_commands.ts")).runPublish(config);
    case "hub":
      return await (await import("./hub/commands.ts")).runHub(config.hub!);
    case "backends":
      return await (await import("./backends_command.ts")).runBackends(config);
  }
}

if (import.meta.main) {
  const machine = machineDefaults();
  let config: Config | undefined;
  try {
    config = parseConfig(Deno.args, readEnvironment(), machine);
    if (config.command !== "help" && config.command !== "version") checkFolders(config);
    // Servers' lines only: a command's output (a bundle, a PIPELINE_URL, a table) stays as it is.
    const server = config.command === "serve" || (config.command === "hub" && config.hub?.command === "serve");
    if (config.logFormat === "json" && server) useJsonLogLines();
    await run(config, machine);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`tern: ${withPermissionHint(err.message)}`);
      Deno.exit(2);
    }
    // Registry, file and other failures: one clear line (the stack with DEBUG / --debug), exit 1.
    console.error(`tern: ${withPermissionHint(errorText(err))}`);
    if (config?.debug && err instanceof Error) console.error(err.stack);
    Deno.exit(1);
  }
}
