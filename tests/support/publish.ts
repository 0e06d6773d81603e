/**
 * @module
 * `tern publish` run as a user runs it: from the folder holding the model, naming the file relative to it (tern reads
 * files only under the folder it is started in, among a few others: src/permissions.ts).
 */
import { basename, dirname } from "node:path";
import { runTern } from "./tern_process.ts";

/** Runs `tern publish --name NAME --model FILE REFERENCE` from FILE's folder; returns exit code and output. */
export async function publishModel(
  file: string,
  name: string,
  reference: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runTern(["publish", "--name", name, "--model", basename(file), reference], env, { cwd: dirname(file) });
}
