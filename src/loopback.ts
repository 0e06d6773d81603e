/**
 * @module
 * Whether a host (with or without a port) is this machine: reached over plain HTTP (a registry, an Ops center), and
 * the addresses on which a hub's open read routes reach no one else.
 */

/** True for `localhost`, 127.0.0.0/8 and `[::1]` (with or without a port), and a bare `::1` (as HUB_HOST gives it). */
export function isLoopbackHost(hostPort: string): boolean {
  if (hostPort === "::1") return true;
  const host = hostPort.startsWith("[") ? hostPort.slice(0, hostPort.indexOf("]") + 1) : hostPort.split(":")[0];
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
