"""A closed-loop HTTP load generator, Python stdlib only.

The GPU test machine has no wrk, no Deno and no network: this measures tern's
real HTTP process there. Each of CONNECTIONS threads keeps one persistent
connection and POSTs BODY_FILE's bytes in a loop for SECONDS (a new request
only when the last one answered; a fresh connection after an error).

    python3 scripts/gpu/load.py URL BODY_FILE CONTENT_TYPE CONNECTIONS SECONDS

Prints one JSON line: connections, seconds, requests (200 answers), errors
(other statuses and exceptions), perSecond (requests / SECONDS), p50Ms and
p99Ms (latency of the 200 answers; null with none) and firstError (or null).
Exits 0 even with errors: the caller decides. Python's GIL caps what one
process can send (a few thousand requests a second): compare runs of this
tool with each other, not with wrk's figures.
"""
import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

CONNECTION = {"http": http.client.HTTPConnection, "https": http.client.HTTPSConnection}


def worker(url, body, headers, deadline, result):
    """Sends requests until `deadline`: latencies of 200s, (time, text) of errors."""
    conn = None
    target = url.path or "/"
    if url.query:
        target += "?" + url.query
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            if conn is None:
                conn = CONNECTION[url.scheme](url.hostname, url.port, timeout=30)
            conn.request("POST", target, body, headers)
            res = conn.getresponse()
            data = res.read()
            if res.status == 200:
                result["latencies"].append(time.perf_counter() - start)
            else:
                text = data[:200].decode(errors="replace")
                result["errors"].append((time.monotonic(), f"HTTP {res.status}: {text}"))
        except Exception as err:  # any failure counts; the loop goes on with a new connection
            result["errors"].append((time.monotonic(), f"{type(err).__name__}: {err}"))
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.01)  # a refused connection must not spin
    if conn is not None:
        conn.close()


def percentile(sorted_values, p):
    """Nearest-rank percentile, in milliseconds; None for no values."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))
    return round(sorted_values[int(rank) - 1] * 1000, 3)


def main():
    if len(sys.argv) != 6:
        sys.exit(f"usage: python3 {sys.argv[0]} URL BODY_FILE CONTENT_TYPE CONNECTIONS SECONDS")
    url, body_file, content_type = urlsplit(sys.argv[1]), sys.argv[2], sys.argv[3]
    try:
        connections, seconds = int(sys.argv[4]), float(sys.argv[5])
    except ValueError:
        connections = seconds = 0
    if url.scheme not in CONNECTION or connections < 1 or seconds <= 0:
        sys.exit(f"load.py: want an http(s) URL, CONNECTIONS >= 1, SECONDS > 0; got {sys.argv[1:]}")
    with open(body_file, "rb") as f:
        body = f.read()
    headers = {"Content-Type": content_type}
    deadline = time.monotonic() + seconds
    results = [{"latencies": [], "errors": []} for _ in range(connections)]
    threads = [threading.Thread(target=worker, args=(url, body, headers, deadline, r))
               for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = sorted(e for r in results for e in r["errors"])
    print(json.dumps({
        "connections": connections,
        "seconds": int(seconds) if seconds.is_integer() else seconds,
        "requests": len(latencies),
        "errors": len(errors),
        "perSecond": round(len(latencies) / seconds, 1),
        "p50Ms": percentile(latencies, 50),
        "p99Ms": percentile(latencies, 99),
        "firstError": errors[0][1] if errors else None,
    }, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
