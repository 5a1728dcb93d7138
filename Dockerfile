# sigil's own image: `sigil-verify serve`, the Kubernetes admission webhook (deploy/kubernetes/,
# docs/deploy.md "In Kubernetes clusters"). At the root of the tree because the build context is
# the whole source tree:
#   docker build -t registry.example.com/sigil/sigil-verify:0.1.0 .
# Built from Debian 12 packages alone: the build stage installs the build dependencies with the
# project's own tools/install-deps.sh and makes the Debian packages (cpack -G DEB, as
# tests/packaging checks them); the image holds the sigil-verify package's program (no private-key
# code), the Debian 12 libraries it loads and CA certificates, and no shell or package manager
# (deploy/kubernetes/image-rootfs.sh). It runs as uid 65532, the Deployment's runAsUser.
ARG DEBIAN=debian:12

FROM ${DEBIAN} AS build
WORKDIR /src
COPY tools/install-deps.sh tools/
RUN bash tools/install-deps.sh --build-only && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGIL_BUILD_TESTS=OFF \
      -DSIGIL_BUILD_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" \
 && cd /build && cpack -G DEB -B /dist

FROM ${DEBIAN} AS rootfs
COPY --from=build /dist/ /dist/
COPY deploy/kubernetes/image-rootfs.sh /usr/local/bin/
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates /dist/sigil-verify_*.deb \
 && sh /usr/local/bin/image-rootfs.sh /usr/bin/sigil-verify /rootfs 65532 \
 && chroot --userspec=65532:65532 /rootfs /usr/bin/sigil-verify version

FROM scratch
COPY --from=rootfs /rootfs/ /
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/bin/sigil-verify"]
CMD ["serve", "--help"]
