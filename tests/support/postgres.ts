/**
 * @module
 * A throwaway PostgreSQL cluster (Debian's postgresql 15) for tests: initdb
 * in a temporary folder, started on a free loopback port with trust auth for
 * user `tern`, removed on stop. PostgreSQL refuses to run as root, so as root
 * it runs as the `postgres` user.
 */
import { requireSystemPackage } from "./system_packages.ts";
import { freePort } from "./hub_process.ts";

const BIN = "/usr/lib/postgresql/15/bin";

/** A running cluster. */
export interface TestPostgres {
  /** `postgres://tern@127.0.0.1:PORT/postgres`. */
  url: string;
  stop(): Promise<void>;
}

async function run(command: string, asPostgres: boolean): Promise<void> {
  const out =
    await (asPostgres
      ? new Deno.Command("su", { args: ["postgres", "-c", command], stdout: "piped", stderr: "piped" })
      : new Deno.Command("sh", { args: ["-c", command], stdout: "piped", stderr: "piped" })).output();
  if (!out.success) {
    throw new Error(
      `${command} failed:\n${new TextDecoder().decode(out.stdout)}${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** Starts a fresh cluster. */
export async function startPostgres(): Promise<TestPostgres> {
  await requireSystemPackage("postgresql");
  const dir = await Deno.makeTempDir({ prefix: "tern-pg-" });
  const asPostgres = Deno.uid() === 0;
  if (asPostgres) await run(`chown postgres ${dir}`, false);
  const port = freePort();
  await run(`${BIN}/initdb -D ${dir}/data -A trust -U tern >/dev/null`, asPostgres);
  await run(
    `${BIN}/pg_ctl -D ${dir}/data -o '-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off' -l ${dir}/log -w start >/dev/null`,
    asPostgres,
  );
  return {
    url: `postgres://tern@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await run(`${BIN}/pg_ctl -D ${dir}/data -m fast -w stop >/dev/null`, asPostgres).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}
