/**
 * @module
 * The hub's fleet page (`GET /` on `tern hub serve`), in the edge status
 * page's style: every edge with its state, pipeline, last contact, backlog
 * and the rows and pages received, and the fleet's totals. Rendered on the
 * server, no script, reloads itself.
 */
import { Badge, count, Page } from "../server/page_layout.tsx";
import { ago } from "../time_ago.ts";
import { type EdgeView, pipelineText } from "./edges_view.ts";
import { edgeState } from "./metrics.ts";

/** Seconds between reloads of the page. */
export const FLEET_REFRESH_SECONDS = 10;

const STATE_KIND = { "in contact": "ok", "not joined": "idle", silent: "warn", expired: "bad" } as const;

/** The fleet page for `edges` at `now`. */
export function FleetPage(props: { edges: EdgeView[]; now: number; version: string }) {
  const { edges, now } = props;
  const total = (pick: (e: EdgeView) => number) => edges.reduce((sum, e) => sum + pick(e), 0);
  const inContact = edges.filter((e) => edgeState(e, now) === "in contact").length;
  return (
    <Page
      title="tern hub"
      subtitle={<span id="fleet-summary">{`${edges.length} edges, ${inContact} in contact`}</span>}
      refreshSeconds={FLEET_REFRESH_SECONDS}
      footer={`tern hub ${props.version} · this page reloads every ${FLEET_REFRESH_SECONDS} s · ` +
        "JSON: /edges, /edges/{name}/logs, /metrics"}
    >
      <section class="wide">
        <h2>Fleet</h2>
        <dl style="margin-bottom:10px">
          <dt>edges</dt>
          <dd id="fleet-edges">{count(edges.length)}</dd>
          <dt>rows received</dt>
          <dd id="fleet-rows">{count(total((e) => e.rows_received))}</dd>
          <dt>backlog reported</dt>
          <dd id="fleet-backlog">{count(total((e) => e.backlog_rows))}</dd>
        </dl>
        {edges.length === 0 ? <p class="muted">No edges yet: tern hub add-edge --name … prints a bundle.</p> : (
          <table>
            <thead>
              <tr>
                <th>edge</th>
                <th>state</th>
                <th>serving</th>
                <th>pipeline</th>
                <th>last contact</th>
                <th class="num">backlog</th>
                <th class="num">rows received</th>
                <th class="num" title="rows its storage cap evicted before they were uploaded">lost to cap</th>
                <th class="num">pages</th>
              </tr>
            </thead>
            <tbody>
              {edges.map((e) => {
                const state = edgeState(e, now);
                return (
                  <tr data-edge={e.name}>
                    <td class="name">{e.name}</td>
                    <td>
                      <Badge kind={STATE_KIND[state]}>{state}</Badge>
                    </td>
                    <td>{e.status ?? "-"}</td>
                    <td>
                      {pipelineText(e)}
                    </td>
                    <td class="last-contact">{e.joined_at === null ? "not joined" : ago(e.last_contact, now)}</td>
                    <td class="num backlog">{count(e.backlog_rows)}</td>
                    <td class="num rows">{count(e.rows_received)}</td>
                    <td class="num evicted">{count(e.evicted_rows)}</td>
                    <td class="num pages">{count(e.pages_received)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </Page>
  );
}
