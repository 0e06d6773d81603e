/**
 * @module
 * The hub's store as its routes use it: a failure of the database (disk full, PostgreSQL restarting, a lock held
 * too long) is a 503 `unavailable`, which edges retry with backoff (docs/ops-protocol.md), and one log line with its
 * cause and SQL for the operator; the reply names neither (an unauthenticated caller gets it), and nothing prints
 * the query's parameters, which are edges' inference rows and keys. TernErrors the store throws
 * on purpose (a conflict) pass unchanged.
 */
import { internalErrorLine, TernError, Unavailable } from "../errors.ts";
import type { HubStore } from "./store.ts";

/** `store` with its failures as Unavailable, each logged through `log`. */
export function guardStore(store: HubStore, log: (line: string) => void): HubStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (err) {
          if (err instanceof TernError) throw err;
          log(`hub database: ${String(property)} failed: ${internalErrorLine(err)}`);
          throw new Unavailable("Ops cannot use its database now; try again later");
        }
      };
    },
  });
}
