/**
 * @module
 * `GET /` on the hub: the fleet page (src/hub/fleet_page.tsx) from the store.
 */
import { Hono } from "hono";
import denoJson from "../../../deno.json" with { type: "json" };
import { FleetPage } from "../fleet_page.tsx";
import { edgeView } from "../edges_view.ts";
import type { HubStore } from "../store.ts";

/** The fleet page route. */
export function fleetRoutes(store: HubStore, now: () => number): Hono {
  return new Hono().get("/", async (c) => {
    const edges = (await store.edges()).map(edgeView);
    return c.html(<FleetPage edges={edges} now={now()} version={denoJson.version} />);
  });
}
