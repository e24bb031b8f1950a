# lastrank serve in a container (deploy/README.md). Two stages on Debian 12 (bookworm):
#   build    compiles `lastrank` from this source tree (Release, portable: no -march=native)
#   runtime  the binary, the Debian libraries it links, curl for the HEALTHCHECK; runs as a non-root user
#
#   docker build -t lastrank .
#   # a model from the Hugging Face cache (huggingface-cli download jinaai/jina-reranker-v3 on the host):
#   docker run -p 8080:8080 -v ~/.cache/huggingface:/data:ro -e LASTRANK_API_KEY=secret lastrank
#   # or a plain model directory:
#   docker run -p 8080:8080 -v /path/to/jina-reranker-v3:/model:ro -e LASTRANK_MODEL=/model lastrank
#
# Configuration is by environment (every `lastrank serve` flag that a deployment sets has a
# LASTRANK_* fallback, src/server/serve.cpp): LASTRANK_MODEL (repo id or directory), LASTRANK_REVISION,
# LASTRANK_API_KEY, LASTRANK_PORT, LASTRANK_HOST, LASTRANK_THREADS, LASTRANK_PRECISION,
# LASTRANK_MAX_QUEUE, LASTRANK_MODEL_NAME, LASTRANK_QUIET. Command-line arguments after the image
# name are passed to `lastrank serve` and win over the environment.
#
# BASE_IMAGE: any Debian bookworm image (tests/deploy/container.sh imports one built with debootstrap).
# LASTRANK_NATIVE=ON compiles for the build machine's CPU instead (faster, not portable).
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ARG LASTRANK_NATIVE=OFF
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ make cmake ninja-build pkg-config \
      nlohmann-json3-dev libxxhash-dev libboost1.81-dev libcli11-dev libutf8proc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY src src
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLASTRANK_TESTS=OFF -DLASTRANK_NATIVE=${LASTRANK_NATIVE} \
 && cmake --build /build --target lastrank -j"$(nproc)" \
 && strip /build/lastrank \
 && /build/lastrank --version
COPY deploy/docker/runtime-packages.sh /usr/local/bin/
RUN runtime-packages.sh /build/lastrank >/build/runtime-packages.txt && cat /build/runtime-packages.txt

FROM ${BASE_IMAGE} AS runtime
COPY --from=build /build/runtime-packages.txt /tmp/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl $(cat /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/runtime-packages.txt \
 && useradd --system --uid 10001 --user-group --home-dir /home/lastrank --create-home --shell /usr/sbin/nologin lastrank \
 && mkdir -p /data /model && chown lastrank:lastrank /data
COPY --from=build /build/lastrank /usr/local/bin/lastrank
RUN lastrank --version

# /data is the Hugging Face home (its hub/ is the cache); mount a host cache there, read-only is fine.
# The packed-weight cache (docs/model-files.md) is off: a fresh container would write ~0.9 GB into its
# own layer and never start again from it. Mount a volume and set LASTRANK_WEIGHT_CACHE to it instead.
ENV HF_HOME=/data \
    LASTRANK_WEIGHT_CACHE=off \
    LASTRANK_MODEL=jinaai/jina-reranker-v3 \
    LASTRANK_HOST=0.0.0.0 \
    LASTRANK_PORT=8080
VOLUME ["/data"]
EXPOSE 8080
USER 10001:10001
WORKDIR /home/lastrank
# /health answers once the model is loaded and the socket listens; the start period covers loading.
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${LASTRANK_PORT}/health" || exit 1
# lastrank handles SIGTERM itself as PID 1 (blocked + sigwait): stop accepting, finish in-flight, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["lastrank", "serve"]
