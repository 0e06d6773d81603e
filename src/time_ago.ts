/**
 * @module
 * How long ago something was, as tern's pages and `tern hub edges` say it ("12 s ago", "3 min ago"). Free of
 * JSX, so the command line loads no page code.
 */

/** How long ago `then` was, from `now` (ms): "12 s ago", "3 min ago", "never". */
export function ago(then: number | null, now: number): string {
  if (then === null) return "never";
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}
