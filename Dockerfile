# Pitlane in a container: a multi-stage build (Swift toolchain, then a slim Debian runtime).
#   docker build -t pitlane .
#   docker run -d --name pitlane -p 8080:8080 -v pitlane-data:/data pitlane
#   docker exec -it pitlane pitlane users add alice --data-dir /data
# See contrib/compose.yaml for accounts and a configuration file. `scripts/check-image` proves on a machine
# without a container engine what can be proven: this build's flags, and the image's layout run as a user.

FROM swift:6.1-bookworm AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libsqlite3-dev python3 python3-pip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY scripts ./scripts
RUN python3 scripts/fetch-hlsjs.py
# The same flags as scripts/check-image: a release build with the Swift runtime linked in.
RUN swift build -c release --static-swift-stdlib --product pitlane \
    && mkdir -p /out/usr/local/bin \
    && cp "$(swift build -c release --show-bin-path)/pitlane" /out/usr/local/bin/ \
    && cp -R "$(swift build -c release --show-bin-path)"/*.resources /out/usr/local/bin/

FROM debian:bookworm-slim
# SQLite (GRDB links the system one) and CA certificates for HTTPS upstreams. For `browser` sources, add
# chromium to this list.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libsqlite3-0 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin pitlane \
    && mkdir -p /data && chown pitlane /data && chmod 0700 /data
COPY --from=build /out/ /
USER pitlane
VOLUME /data
# Listening on every interface is what a container needs, so accounts are on (Pitlane refuses to listen
# beyond loopback without them unless told `auth.mode: none`: set PITLANE_AUTH_MODE=none only when the
# published port is bound to loopback, `-p 127.0.0.1:8080:8080`).
ENV PITLANE_SERVER_HOST=0.0.0.0 \
    PITLANE_AUTH_MODE=password \
    PITLANE_SERVER_PORT=8080 \
    PITLANE_SERVER_DATA_DIR=/data \
    PITLANE_LOG_FORMAT=json
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=6s --start-period=20s --retries=3 CMD ["/usr/local/bin/pitlane", "health"]
ENTRYPOINT ["/usr/local/bin/pitlane"]
CMD ["serve"]
