/**
 * @module
 * `tern publish` run as a user runs it: from the folder holding the model, naming the file relative to it (tern reads
 * files only under the folder it is started in, among a few others: src/permissions.ts).
 */
import { basename, dirname } from "node:path";
import { ternCommand } from "./tern_process.ts";

/** Runs `tern publish --name NAME --model FILE REFERENCE` from FILE's folder; returns exit code and output. */
export async function publishModel(
  file: string,
  name: string,
  reference: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [program, ...pre] = ternCommand();
  const out = await new Deno.Command(program, {
    args: [...pre, "publish", "--name", name, "--model", basename(file), reference],
    cwd: dirname(file),
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
