# tern in a scratch image: the single binary, exactly the glibc files it links, a non-root user, /persist.
#
#   docker build -t tern .                  build stage compiles dist/tern (needs to pull denoland/deno)
#   bash scripts/image.sh                   no base image reachable: the same runtime image from a dist/tern
#                                           built on this machine (--target host), tagged localhost/tern:dev
#   docker run -p 8080:8080 -v ./data:/persist tern
#
# The runtime stages share `base`; `runtime` (the last, the default) takes the root file system from the build
# stage, `host` from build/rootfs (scripts/rootfs.sh, run by scripts/image.sh).

FROM scratch AS base
ENV PERSISTENT_VOLUME_DIR=/persist
USER 10001:10001
EXPOSE 8080
# A scratch image has no curl: tern asks itself (GET /health/ready on PORT).
HEALTHCHECK --interval=10s --timeout=6s --start-period=60s --retries=3 CMD ["/usr/local/bin/tern", "health"]
# SIGTERM: tern stops accepting, finishes what is in flight, flushes the log and exits 0 (docker stop waits 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tern"]

FROM docker.io/denoland/deno:debian-2.7.11 AS build
# `docker build --build-arg TERN_COMMIT=$(git rev-parse --short=12 HEAD) .` names the commit in tern --version.
ARG TERN_COMMIT=unknown
WORKDIR /src
# zstd compresses the runtime files the binary carries (scripts/pack_embedded.sh).
RUN apt-get update && apt-get install -y --no-install-recommends zstd && rm -rf /var/lib/apt/lists/*
COPY . .
# The binary for the platform being built (docker buildx --platform linux/arm64 builds dist/tern-aarch64).
RUN arch=$(uname -m) && bin=dist/tern && if [ "$arch" = aarch64 ]; then bin=dist/tern-aarch64; fi && \
    TERN_COMMIT=$TERN_COMMIT bash scripts/compile.sh "$arch" && bash scripts/rootfs.sh "$bin" /rootfs

# COPY makes root own what it copies, and keeps the owner of a folder that is already there: /persist comes alone and
# last, tern's, so that a volume Docker or podman creates on it (`-v tern-data:/persist`, or none: the VOLUME) is
# tern's too and tern can write its log there. (WORKDIR and VOLUME follow: either would make /persist root's first.)
FROM base AS host
COPY build/rootfs/fs/ /
COPY --chown=10001:10001 build/rootfs/persist /persist
WORKDIR /persist
VOLUME /persist

FROM base AS runtime
COPY --from=build /rootfs/fs/ /
COPY --from=build --chown=10001:10001 /rootfs/persist /persist
WORKDIR /persist
VOLUME /persist
