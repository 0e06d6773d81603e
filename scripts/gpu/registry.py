"""A minimal OCI distribution registry, Python stdlib only.

The GPU test machine has no network, no Docker and no registry, yet tern
pulls its pipeline from one. This serves just what `tern publish` pushes and
tern pulls: blob HEAD/GET, uploads (POST, PATCH, PUT ?digest=), manifest
PUT/HEAD/GET by tag or digest. No auth, loopback only.

    python3 scripts/gpu/registry.py PORT DIR    (PORT 0: a free one)

Prints `listening <port>` once ready. Blobs live in DIR/blobs/<digest>,
manifests in DIR/repos/<name>/_manifests/<digest> (media type beside it in
<digest>.type), tags in DIR/repos/<name>/_tags/<tag> (each holding a digest;
no name component starts with "_", so these never clash with a nested name).
"""
import hashlib
import json
import re
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

NAME = r"(?P<name>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
DIGEST = r"sha256:[a-f0-9]{64}"
TAG = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
ROUTES = [
    ("blob", re.compile(rf"^/v2/{NAME}/blobs/(?P<digest>{DIGEST})$")),
    ("start", re.compile(rf"^/v2/{NAME}/blobs/uploads/?$")),
    ("upload", re.compile(rf"^/v2/{NAME}/blobs/uploads/(?P<upload>[a-f0-9]{{32}})$")),
    ("manifest", re.compile(rf"^/v2/{NAME}/manifests/(?P<ref>{DIGEST}|{TAG})$")),
]
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
ROOT = Path()


def sha256_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass  # quiet: the caller reads stdout for the port line only

    def route(self):
        method, url = self.command, urlsplit(self.path)
        body = self.read_body()
        if url.path in ("/v2", "/v2/"):
            return self.reply(200, b"{}", {"Content-Type": "application/json"})
        for kind, pattern in ROUTES:
            m = pattern.match(url.path)
            if not m:
                continue
            handler = getattr(self, f"{kind}_{method.lower()}", None)
            if handler is None:
                return self.error(405, "UNSUPPORTED", f"{method} is not supported on {url.path}")
            return handler(body=body, query=parse_qs(url.query), **m.groupdict())
        self.error(404, "NAME_UNKNOWN", f"no route for {method} {url.path}")

    do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = route

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                data += self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
                if size == 0:
                    return data
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.reply(status, body, {"Content-Type": "application/json"})

    def blob_get(self, name, digest, **_):
        path = ROOT / "blobs" / digest
        if not path.is_file():
            return self.error(404, "BLOB_UNKNOWN", f"blob {digest} is not in {name}")
        headers = {"Content-Type": "application/octet-stream", "Docker-Content-Digest": digest}
        self.reply(200, path.read_bytes(), headers)

    blob_head = blob_get

    def start_post(self, name, **_):
        upload = uuid.uuid4().hex
        (ROOT / "uploads" / upload).write_bytes(b"")
        self.reply(202, b"", self.upload_headers(name, upload, "0-0"))

    @staticmethod
    def upload_headers(name, upload, received):
        location = f"/v2/{name}/blobs/uploads/{upload}"
        return {"Location": location, "Docker-Upload-UUID": upload, "Range": received}

    def append(self, upload, body):
        """Appends `body` to the upload; its path, or None after answering 404."""
        path = ROOT / "uploads" / upload
        if not path.is_file():
            return self.error(404, "BLOB_UPLOAD_UNKNOWN", f"no upload {upload}")
        with path.open("ab") as f:
            f.write(body)
        return path

    def upload_patch(self, name, upload, body, **_):
        path = self.append(upload, body)
        if path:
            received = f"0-{max(path.stat().st_size - 1, 0)}"
            self.reply(202, b"", self.upload_headers(name, upload, received))

    def upload_put(self, name, upload, body, query, **_):
        path = self.append(upload, body)
        if not path:
            return
        digest, actual = query.get("digest", [""])[0], sha256_of(path.read_bytes())
        if digest != actual:
            path.unlink()
            return self.error(400, "DIGEST_INVALID", f"upload has digest {actual}, not {digest!r}")
        path.replace(ROOT / "blobs" / digest)
        headers = {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest}
        self.reply(201, b"", headers)

    def manifest_put(self, name, ref, body, **_):
        digest, repo = sha256_of(body), ROOT / "repos" / name
        if ref.startswith("sha256:") and ref != digest:
            return self.error(400, "DIGEST_INVALID", f"manifest has digest {digest}, not {ref}")
        for sub in ("_manifests", "_tags"):
            (repo / sub).mkdir(parents=True, exist_ok=True)
        (repo / "_manifests" / digest).write_bytes(body)
        media_type = self.headers.get("Content-Type", MANIFEST_TYPE)
        (repo / "_manifests" / f"{digest}.type").write_text(media_type)
        if ref != digest:
            (repo / "_tags" / ref).write_text(digest)
        headers = {"Location": f"/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest}
        self.reply(201, b"", headers)

    def manifest_get(self, name, ref, **_):
        repo = ROOT / "repos" / name
        try:
            digest = ref if ref.startswith("sha256:") else (repo / "_tags" / ref).read_text()
            data = (repo / "_manifests" / digest).read_bytes()
            media_type = (repo / "_manifests" / f"{digest}.type").read_text()
        except FileNotFoundError:
            return self.error(404, "MANIFEST_UNKNOWN", f"manifest {name}:{ref} is not known")
        self.reply(200, data, {"Content-Type": media_type, "Docker-Content-Digest": digest})

    manifest_head = manifest_get


def main():
    global ROOT
    if len(sys.argv) != 3:
        sys.exit("usage: python3 scripts/gpu/registry.py PORT DIR")
    ROOT = Path(sys.argv[2]).resolve()
    for sub in ("blobs", "uploads", "repos"):
        (ROOT / sub).mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
