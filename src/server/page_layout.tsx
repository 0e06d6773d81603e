/**
 * @module
 * What tern's HTML pages share (the edge's status page and the hub's fleet
 * page): the document with its inline style and a meta refresh (no script,
 * no asset to fetch), and the formatting of bytes, counts and times.
 */
import type { Child } from "hono/jsx";
import { raw } from "hono/html";

const STYLE = `
:root { color-scheme: light; --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --ok: #12805c; --warn: #b54708;
  --bad: #b42318; --accent: #2f5bd3; --panel: #ffffff; --bg: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
header { background: #151b2c; color: #fff; padding: 14px 24px; display: flex; align-items: baseline; gap: 16px; }
header h1 { margin: 0; font-size: 20px; letter-spacing: .5px; }
header .sub { color: #b8c0d4; }
main { padding: 18px 24px; display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
section.wide { grid-column: 1 / -1; }
h2 { margin: 0 0 10px; font-size: 15px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: normal; font-size: 12px; text-transform: uppercase; letter-spacing: .4px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: #fff; }
.ok { background: var(--ok); } .warn { background: var(--warn); } .bad { background: var(--bad); }
.idle { background: var(--muted); }
.bar { height: 10px; background: var(--line); border-radius: 5px; overflow: hidden; margin-top: 6px; }
.bar > div { height: 100%; background: var(--accent); }
.muted { color: var(--muted); } .bad-text { color: var(--bad); }
footer { padding: 0 24px 18px; color: var(--muted); font-size: 12px; }
svg text { font: 11px "DejaVu Sans", Arial, sans-serif; fill: var(--muted); }
`;

/** A whole page: `title` in the header, `children` in a grid of sections; reloads itself every `refreshSeconds`. */
export function Page(
  props: { title: string; subtitle: Child; refreshSeconds: number; footer: Child; children: Child },
) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta http-equiv="refresh" content={String(props.refreshSeconds)} />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{props.title}</title>
          <style>{raw(STYLE)}</style>
        </head>
        <body>
          <header>
            <h1>{props.title}</h1>
            <span class="sub">{props.subtitle}</span>
          </header>
          <main>{props.children}</main>
          <footer>{props.footer}</footer>
        </body>
      </html>
    </>
  );
}

/** A status word in a coloured badge: ok, warn, bad or idle. */
export function Badge(props: { kind: "ok" | "warn" | "bad" | "idle"; children: Child }) {
  return <span class={`badge ${props.kind}`}>{props.children}</span>;
}

/** 1234567 → "1,234,567". */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Bytes in binary units: "1.5 MiB". */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** An ISO time without milliseconds, UTC: "2026-12-01 10:04:05Z". */
export function clock(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
