/**
 * @module
 * `deno task guarantees`: runs the suites that try to break tern's guarantees
 * (docs/guarantees.md) in their long versions (TERN_GUARANTEES_LONG=1: 100,000
 * fuzz bodies, 25 kill -9 trials, a 200,000-request soak; `--short` runs the
 * versions `deno task test` runs) against the source, or the binary with
 * TERN_BIN, and writes their figures into docs/guarantees.md between its
 * figure markers. Needs root for the disk-full suite (skipped otherwise, and
 * the table says so).
 */

const ROOT = new URL("../", import.meta.url).pathname;
const SUITES = [
  "tests/e2e/fuzz_test.ts",
  "tests/e2e/kill_trials_test.ts",
  "tests/e2e/disk_full_test.ts",
  "tests/e2e/soak_test.ts",
  "tests/e2e/secrets_egress_test.ts",
  "tests/e2e/security_test.ts",
];
const long = !Deno.args.includes("--short");
const figuresDir = await Deno.makeTempDir({ prefix: "tern-figures-" });
const started = new Date();
const results: { suite: string; ok: boolean }[] = [];
for (const suite of SUITES) {
  console.log(`== ${suite}${long ? " (long)" : ""}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", suite],
    cwd: ROOT,
    env: { TERN_FIGURES_DIR: figuresDir, ...(long ? { TERN_GUARANTEES_LONG: "1" } : {}) },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  results.push({ suite, ok: status.success });
}

const read = (name: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(Deno.readTextFileSync(`${figuresDir}/${name}.json`));
  } catch {
    return undefined;
  }
};
const mib = (bytes: unknown) => `${(Number(bytes) / 2 ** 20).toFixed(0)} MiB`;
const fuzz = read("fuzz");
const kill = read("kill_trials");
const disk = read("disk_full");
const soak = read("soak");
const egress = read("egress");
const secrets = read("secrets");
const none = "not run (see the suite's output)";
const rows: [string, string][] = [
  [
    "fuzz bodies tried (no 5xx, JSON error with a code each)",
    fuzz
      ? `${fuzz.bodies} bodies, ${fuzz.five_xx} 5xx; statuses ${JSON.stringify(fuzz.statuses)}; RSS ${
        mib(fuzz.rss_start_bytes)
      } → peak ${mib(fuzz.rss_peak_bytes)}`
      : none,
  ],
  [
    "kill -9 trials (durable/fsync alternately, upload running)",
    kill
      ? `${kill.trials} kills, ${kill.integrity_checks_ok} integrity checks ok; ${kill.acknowledged_rows} rows acknowledged, ${kill.rows_lost} lost; ${kill.rows_at_hub} rows at the hub, ${kill.duplicates_at_hub} duplicates (${kill.pages_resent_and_deduplicated_rows} resent rows deduplicated by the hub); seed ${kill.seed}`
      : none,
  ],
  [
    "disk full (tmpfs filled under load, then freed)",
    disk
      ? `refused with ${disk.refused_status} \`${disk.refused_code}\` ("${disk.refused_error}"); ${disk.acknowledged_requests} acknowledged requests, ${disk.requests_lost} lost; integrity ${disk.integrity}`
      : "skipped: needs root to mount the tmpfs",
  ],
  [
    "soak (durable log + upload, 4 clients, loopback)",
    soak
      ? `${soak.requests} requests, ${soak.errors} errors, ${soak.rows_at_hub} rows at the hub; RSS ${
        mib(soak.rss_start_bytes)
      } → ${mib(soak.rss_end_bytes)} (peak ${
        mib(soak.rss_peak_bytes)
      }); open fds ${soak.fds_start} → ${soak.fds_end} (max ${soak.fds_max})`
      : none,
  ],
  [
    "outbound connections (strace -f -e trace=connect)",
    egress
      ? `${egress.inet_connects} connects, ${egress.unexpected} to anything but the registry, its token realm and the hub`
      : none,
  ],
  [
    "secrets in all output, DEBUG on",
    secrets
      ? `${(secrets.secrets_searched as string[]).length} secrets searched in ${
        (secrets.outputs_searched as string[]).join(", ")
      } (${secrets.output_bytes} bytes): ${secrets.leaks} found`
      : none,
  ],
];
const table = [
  `Last run: ${started.toISOString().slice(0, 10)}, ${long ? "long" : "short"} versions, ${
    Deno.env.get("TERN_BIN") ? "dist/tern" : "the source"
  }, \`deno task guarantees${long ? "" : " --short"}\`. Suites: ${
    results.map((r) => `${r.suite.replace("tests/e2e/", "")} ${r.ok ? "passed" : "FAILED"}`).join(", ")
  }.`,
  "",
  "| what was tried | figures |",
  "| --- | --- |",
  ...rows.map(([what, figures]) => `| ${what} | ${figures.replaceAll("|", "\\|")} |`),
].join("\n");

const docPath = `${ROOT}docs/guarantees.md`;
const doc = Deno.readTextFileSync(docPath);
const start = "<!-- figures:start -->";
const end = "<!-- figures:end -->";
const i = doc.indexOf(start);
const j = doc.indexOf(end);
if (i < 0 || j < i) throw new Error(`docs/guarantees.md lacks the ${start} … ${end} markers`);
Deno.writeTextFileSync(docPath, `${doc.slice(0, i + start.length)}\n\n${table}\n\n${doc.slice(j)}`);
await new Deno.Command(Deno.execPath(), { args: ["fmt", docPath], cwd: ROOT }).output();
await Deno.remove(figuresDir, { recursive: true });
console.log(`docs/guarantees.md: figures written`);
Deno.exit(results.every((r) => r.ok) ? 0 : 1);
