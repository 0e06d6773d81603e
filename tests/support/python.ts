/**
 * @module
 * Runs a script with Debian's /usr/bin/python3 (the interpreter that has the
 * Debian python3-* packages the suite installs), `input` on its stdin.
 */

/** The script's exit status and output. */
export interface PythonResult {
  success: boolean;
  stdout: string;
  stderr: string;
}

/** Runs `script` (`python3 -c`) with `input` as its standard input. */
export async function runPython(script: string, input: string): Promise<PythonResult> {
  const child = new Deno.Command("/usr/bin/python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder();
  return { success: out.success, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
