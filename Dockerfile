# syntax=docker/dockerfile:1
#
# Switchyard's container image: a statically linked, stripped `switchyard` on distroless/static
# (no shell, no package manager, no libc; CA certificates, tzdata and a `nonroot` user, uid 65532).
#
#   docker build -t switchyard .
#   docker run --rm -p 8787:8787 switchyard
#   docker run --rm -p 8787:8787 -v "$PWD/switchyard.yaml:/etc/switchyard/switchyard.yaml:ro" \
#     -e SWITCHYARD_CONFIG=/etc/switchyard/switchyard.yaml -e OPENAI_API_KEY switchyard
#
# The build is the one `scripts/static-build` makes and checks on a plain machine (glibc with
# `+crt-static`); docs/deployment.md says what it measures. CI lints this file (scripts/deploy-lint,
# hadolint) but does not build it: the CI machine has the Docker client and no engine.

ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# Everything the workspace's manifests name (.dockerignore leaves out target/, tests, tooling).
COPY . .
# The registry and the target directory are BuildKit caches, so a rebuild after a source change
# only compiles the workspace's own crates. The binary is copied out of the cache mount to /out.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eux; \
    triple="$(uname -m)-unknown-linux-gnu"; \
    RUSTFLAGS="-C target-feature=+crt-static" \
      cargo build --profile dist --locked --target "$triple" -p switchyard; \
    mkdir -p /out/data; \
    cp "target/$triple/dist/switchyard" /out/switchyard; \
    strip /out/switchyard; \
    /out/switchyard --version

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="switchyard" \
      org.opencontainers.image.description="A fast AI gateway that speaks the OpenAI API" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/switchyard /usr/local/bin/switchyard
# SWITCHYARD_DATA_DIR: the SQLite file and a generated encryption key of a single node (many
# nodes use PostgreSQL and SWITCHYARD_ENCRYPTION_KEY instead). Mount a volume here to keep them.
COPY --from=build --chown=65532:65532 /out/data /data
ENV SWITCHYARD_LISTEN=0.0.0.0:8787 \
    SWITCHYARD_DATA_DIR=/data \
    SWITCHYARD_LOG_FORMAT=json
WORKDIR /data
# distroless's `nonroot`, by number so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8787
# No in-image probe: the image has no shell, curl or wget, and `switchyard` has no command that
# asks a running gateway for /health (`switchyard check` validates a config file, nothing more).
# Orchestrators probe over HTTP instead: Kubernetes httpGet on /health and /ready
# (deploy/k8s/deployment.yaml), nginx's passive checks in deploy/compose. See docs/deployment.md.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/switchyard"]
CMD ["serve"]
