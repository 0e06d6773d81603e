/**
 * @module
 * Opens the hub's store from its config: PostgreSQL with HUB_DATABASE_URL,
 * else libSQL in HUB_STATE_DIR; and describes it for start-up lines without
 * the URL's credentials.
 */
import type { HubConfig } from "./config.ts";
import { errorText } from "../errors.ts";
import { openPgHubStore } from "./store_pg.ts";
import { hubDbPath, openSqliteHubStore } from "./store_sqlite.ts";
import type { HubStore } from "./store.ts";

/** Where the state is: HubConfig's fields, or either of them alone. */
export type HubStateConfig = Partial<Pick<HubConfig, "databaseUrl" | "stateDir">>;

/** The store `config` names, migrated. */
export async function openHubStore(config: HubStateConfig): Promise<HubStore> {
  if (config.stateDir === undefined && !config.databaseUrl) {
    throw new Error("the hub needs a state directory or a database URL");
  }
  try {
    return config.databaseUrl ? await openPgHubStore(config.databaseUrl) : await openSqliteHubStore(config.stateDir!);
  } catch (err) {
    const setting = config.databaseUrl ? "HUB_DATABASE_URL" : "HUB_STATE_DIR";
    throw new Error(`cannot open the hub's state, ${describeStore(config)} (${setting}): ${errorText(err)}`);
  }
}

/** `libSQL hub-state/hub.db` or `PostgreSQL db.example.com:5432/tern` (no user, no password). */
export function describeStore(config: HubStateConfig): string {
  if (!config.databaseUrl) return `libSQL ${hubDbPath(config.stateDir ?? ".")}`;
  try {
    const url = new URL(config.databaseUrl);
    return `PostgreSQL ${url.host}${url.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}
