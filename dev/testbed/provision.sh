#!/usr/bin/env bash
# Build (or refresh) the offline Bazel test bed: a Debian sid chroot holding
# Bazel 7.7.1 and the Debian-packaged rulesets, Rust, and the container tools
# (runc, docker-registry, skopeo, umoci, crane, nginx, qemu-user) that the tests
# drive, plus an arm64 CPython and root file system for the multi-platform example.
#
#   dev/testbed/provision.sh            # idempotent; a no-op when up to date
#   PYIMAGE_TESTBED_ROOT=/srv/sid dev/testbed/provision.sh
#
# Needs root on a Debian host and network access to the Debian mirror named in
# the host's apt sources (plus crates.io for cargo-bazel). Nothing else is
# downloaded. A stamp file records the hash of this script, so an edited
# script re-runs the (idempotent) steps and an unchanged one returns at once.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=dev/testbed/common.sh
. "$HERE/common.sh"

STAMP="$TESTBED_ROOT/etc/rules_pyimage-testbed.stamp"
WANT=$(cat "$HERE/provision.sh" "$HERE/common.sh" | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
    exit 0
fi

[ "$(id -u)" = 0 ] || die "provisioning needs root (it runs debootstrap and mounts into $TESTBED_ROOT); re-run with sudo"
command -v apt-get >/dev/null || die "provisioning needs a Debian host (apt-get not found)"

step() { printf '\033[1m[testbed]\033[0m %s\n' "$*" >&2; }
timed() {
    local start=$SECONDS
    "$@"
    step "  done in $((SECONDS - start)) s"
}

# The Debian mirror comes from the host's own apt configuration, never a constant.
debian_mirror() {
    local uri
    uri=$(
        {
            # deb822 sources: "URIs: http://... " in stanzas whose Suites are not *-security
            for f in /etc/apt/sources.list.d/*.sources; do
                [ -f "$f" ] || continue
                awk 'BEGIN{RS=""} !/Suites:[^\n]*-security/ {
                        if (match($0, /URIs:[ \t]*[^ \t\n]+/)) {
                            s = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", s); print s }
                     }' "$f"
            done
            # one-line sources: "deb [opts] URI suite components"
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) !~ /-security/) print $i; break } }'
        } | grep -v -- '-security' | head -n1
    )
    [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}; add one (e.g. a 'deb' line) and re-run"
    printf '%s\n' "${uri%/}"
}

if [ ! -x "$TESTBED_ROOT/usr/bin/apt-get" ]; then
    MIRROR=$(debian_mirror)
    step "debootstrap sid from $MIRROR into $TESTBED_ROOT (about 30 s)"
    command -v debootstrap >/dev/null || timed apt-get install -y -q debootstrap >/dev/null
    mkdir -p "$(dirname "$TESTBED_ROOT")"
    rm -rf "$TESTBED_ROOT.partial"
    timed debootstrap --variant=minbase sid "$TESTBED_ROOT.partial" "$MIRROR" >/dev/null
    mv "$TESTBED_ROOT.partial" "$TESTBED_ROOT"
fi

# The mirror's sid Release file may look expired to this machine's clock.
echo 'Acquire::Check-Valid-Until "false";' >"$TESTBED_ROOT/etc/apt/apt.conf.d/99no-check-valid-until"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$TESTBED_ROOT/etc/apt/apt.conf.d/99no-recommends"

# Extra CA certificates the host trusts (proxies, private mirrors) must be trusted
# inside too, or Bazel's downloader, pip and cargo fail with certificate errors.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$TESTBED_ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$TESTBED_ROOT/usr/local/share/ca-certificates/"
fi

# arm64 package lists too: the multi-platform example's interpreter and base
# come from Debian's arm64 packages (downloaded and unpacked, never installed).
testbed_mount
testbed_exec 'dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64'

PACKAGES=(
    # Bazel and the rulesets Debian packages for it
    bazel-bootstrap bazel-rules-python bazel-rules-rust bazel-rules-pkg bazel-lib
    bazel-aspect-bazel-lib bazel-skylib bazel-platforms bazel-rules-cc bazel-rules-java
    bazel-rules-shell bazel-features bazel-stardoc bazel-java-tools
    # rules_python's pip helpers, replaced by Debian's (see the stub repos below)
    python3-pip python3-pkg-resources python3-installer
    # Rust, for rules_rust's local toolchain and cargo-bazel
    rustc cargo
    # containers, registries, caches: the independent checkers the tests use
    ca-certificates runc busybox-static jq skopeo umoci crane docker-registry nginx-light
    debootstrap iproute2 curl
    # htpasswd (bcrypt) for the registry that requires credentials
    apache2-utils
    # archive readers used as independent checkers
    tar gzip zstd pigz libarchive-tools file patchelf
    # renders the image report (its DOM and a screenshot are checked), validates the SBOM
    chromium fonts-dejavu-core python3-spdx-tools
    # runs the arm64 image's interpreter (qemu-aarch64 -L ROOT, no binfmt_misc needed)
    qemu-user
)
step "installing ${#PACKAGES[@]} packages into the chroot (about 1 min on first run)"
timed testbed_exec "export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/var/log/testbed-apt.log 2>&1 &&
    apt-get install -y -q ${PACKAGES[*]} >>/var/log/testbed-apt.log 2>&1 ||
    { tail -n 30 /var/log/testbed-apt.log; exit 1; }"
testbed_exec 'update-ca-certificates >/dev/null 2>&1 || true'

step "writing stub modules and the system bazelrc"
S="$TESTBED_ROOT/usr/local/share/bazel-stubs"
mkdir -p "$S"
# bazel_tools depends on these modules, which Debian does not package; empty
# modules satisfy the graph (Debian's own autopkgtest does the same).
for m in apple_support protobuf buildozer zlib aspect_rules_js; do
    mkdir -p "$S/$m"
    echo "module(name = \"$m\")" >"$S/$m/MODULE.bazel"
    : >"$S/$m/BUILD.bazel"
done
cat >"$S/zlib/BUILD.bazel" <<'EOF'
# Stand-in for the zlib module: link against the system library.
cc_library(
    name = "zlib",
    linkopts = ["-lz"],
    visibility = ["//visibility:public"],
)
EOF
cat >"$S/buildozer/buildozer_binary.bzl" <<'EOF'
# Stand-in for buildozer's module extension (only `bazel mod tidy` uses it).
def _stub_repo_impl(rctx):
    rctx.file("BUILD.bazel", "")

_stub_repo = repository_rule(implementation = _stub_repo_impl)

def _ext_impl(mctx):
    _stub_repo(name = "buildozer_binary")

buildozer_binary = module_extension(implementation = _ext_impl)
EOF
# rules_python pins pip/setuptools wheels that crash on Python >= 3.12; an empty
# repo in their place lets its wheel installer use Debian's python3-pip instead.
mkdir -p "$S/empty_pyrepo"
echo '# empty: the wheel installer falls through to Debian python3-pip' >"$S/empty_pyrepo/BUILD.bazel"
: >"$S/empty_pyrepo/WORKSPACE"
# rules_rust downloads @rust_host_tools for crate_universe; use Debian's cargo/rustc.
mkdir -p "$S/rust_host_tools/bin"
for b in cargo rustc rustdoc; do ln -sfn "/usr/bin/$b" "$S/rust_host_tools/bin/$b"; done
: >"$S/rust_host_tools/WORKSPACE"
cat >"$S/rust_host_tools/BUILD.bazel" <<'EOF'
# Stand-in for rules_rust's downloaded @rust_host_tools: Debian's cargo and rustc.
package(default_visibility = ["//visibility:public"])

exports_files(["bin/cargo", "bin/rustc", "bin/rustdoc"])

filegroup(name = "cargo", srcs = ["bin/cargo"])

filegroup(name = "rustc", srcs = ["bin/rustc"])
EOF
cat >"$TESTBED_ROOT/etc/bazel.bazelrc" <<'EOF'
# Test bed: bazel_tools' own dependencies that Debian does not package.
common --override_module=apple_support=/usr/local/share/bazel-stubs/apple_support
common --override_module=protobuf=/usr/local/share/bazel-stubs/protobuf
common --override_module=buildozer=/usr/local/share/bazel-stubs/buildozer
common --override_module=zlib=/usr/local/share/bazel-stubs/zlib
EOF

# rules_rust's process_wrapper needs one crate that it would fetch at build time.
D="$TESTBED_ROOT/usr/local/share/bazel-distdir"
mkdir -p "$D"
TINYJSON_SHA256=9ab95735ea2c8fd51154d01e39cf13912a78071c2d89abc49a7ef102a7dd725a
if ! echo "$TINYJSON_SHA256  $D/tinyjson-2.5.1.crate" | sha256sum -c --status - 2>/dev/null; then
    step "fetching tinyjson 2.5.1 from crates.io for rules_rust's process_wrapper"
    testbed_exec "curl -fsSL -o /usr/local/share/bazel-distdir/tinyjson-2.5.1.crate.tmp \
        https://static.crates.io/crates/tinyjson/tinyjson-2.5.1.crate &&
        mv /usr/local/share/bazel-distdir/tinyjson-2.5.1.crate.tmp /usr/local/share/bazel-distdir/tinyjson-2.5.1.crate"
    echo "$TINYJSON_SHA256  $D/tinyjson-2.5.1.crate" | sha256sum -c --status - ||
        die "tinyjson-2.5.1.crate does not match its pinned sha256; delete $D and re-run"
fi

# crate_universe's generator, built from the exact sources Debian ships with
# rules_rust, so the Starlark and the binary always agree.
if [ ! -x "$TESTBED_ROOT/usr/local/bin/cargo-bazel" ]; then
    step "building cargo-bazel from Debian's rules_rust sources (about 7 min on 2 cores)"
    timed testbed_exec 'set -e
        rm -rf /root/build/cargo-bazel; mkdir -p /root/build
        cp -r /usr/share/bazel/rules/rust/crate_universe /root/build/cargo-bazel
        cd /root/build/cargo-bazel
        cargo build -q --release --locked --bin cargo-bazel
        install -m755 target/release/cargo-bazel /usr/local/bin/cargo-bazel
        cd / && rm -rf /root/build/cargo-bazel'
fi

# cargo-bazel's crates-index computes the sparse-index cache directory with an
# older hash than current cargo; alias the two so it finds cargo's cache.
testbed_exec 'set -e; mkdir -p /root/.cargo/registry/index
    cd /root/.cargo/registry/index
    mkdir -p index.crates.io-1949cf8c6b5b557f
    [ -e index.crates.io-6f17d22bba15001f ] || ln -s index.crates.io-1949cf8c6b5b557f index.crates.io-6f17d22bba15001f'

# Real base images for the end-to-end tests: Debian minbase root file systems
# as deterministic layer tars. "minbase" has no Python (images bring their own
# interpreter); "minbase-python" has Debian's python3 for images that use it.
make_base_rootfs() { # name, extra packages
    local tar="$TESTBED_CACHE/base/debian-sid-$1.tar.gz"
    [ -s "$tar" ] && return 0
    step "debootstrap the $1 root file system for the example base images (about 1 min)"
    timed testbed_exec "set -e
        rm -rf /var/tmp/base-rootfs
        debootstrap --variant=minbase --include=$2 \
            sid /var/tmp/base-rootfs $(debian_mirror) >/var/log/testbed-base.log 2>&1 ||
            { tail -n 20 /var/log/testbed-base.log; exit 1; }
        rm -rf /var/tmp/base-rootfs/var/cache/apt/archives/*.deb /var/tmp/base-rootfs/var/lib/apt/lists/*
        mkdir -p $TESTBED_CACHE/base
        tar -C /var/tmp/base-rootfs --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
            --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -cf - . |
            gzip -n -6 > $tar.tmp
        mv $tar.tmp $tar
        rm -rf /var/tmp/base-rootfs"
}
make_base_rootfs minbase libexpat1,libffi8,libsqlite3-0,ca-certificates
make_base_rootfs minbase-python python3,ca-certificates

# The same minbase for arm64. This machine cannot run arm64 code in a chroot
# (binfmt_misc is not ours to change), so debootstrap only downloads and
# unpacks (--foreign), we unpack the --include packages too, and write what
# their maintainer scripts would have: users and groups, the CA bundle. dpkg's
# database stays unconfigured; images built on it never run apt.
make_foreign_rootfs() { # name, debootstrap arch, extra packages
    local tar="$TESTBED_CACHE/base/debian-sid-$1.tar.gz"
    [ -s "$tar" ] && return 0
    step "debootstrap --foreign the $1 root file system (about 1 min)"
    timed testbed_exec "set -e
        R=/var/tmp/base-rootfs-$2
        rm -rf \$R
        debootstrap --arch=$2 --foreign --variant=minbase --include=$3 \
            sid \$R $(debian_mirror) >/var/log/testbed-base.log 2>&1 ||
            { tail -n 20 /var/log/testbed-base.log; exit 1; }
        for p in \$(cat \$R/debootstrap/base); do
            dpkg-deb -x \$R/\$(awk -v p=\$p '\$1 == p { print \$2 }' \$R/debootstrap/debpaths) \$R
        done
        cp \$R/usr/share/base-passwd/passwd.master \$R/etc/passwd
        cp \$R/usr/share/base-passwd/group.master \$R/etc/group
        mkdir -p \$R/etc/ssl/certs
        cat \$R/usr/share/ca-certificates/mozilla/*.crt >\$R/etc/ssl/certs/ca-certificates.crt
        rm -rf \$R/debootstrap \$R/var/cache/apt/archives/*.deb \$R/var/lib/apt/lists/*
        mkdir -p $TESTBED_CACHE/base
        tar -C \$R --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
            --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -cf - . |
            gzip -n -6 > $tar.tmp
        mv $tar.tmp $tar
        rm -rf \$R"
}
make_foreign_rootfs minbase-arm64 arm64 libexpat1,libffi8,libsqlite3-0,ca-certificates

# Debian's arm64 CPython, unpacked (not installed): the interpreter of the
# multi-platform example's arm64 image, served by extension.bzl as a toolchain
# for linux/aarch64. Its shared libraries come from the base, as on amd64.
PYTHON_ARM64="$TESTBED_CACHE/python/linux-arm64"
if [ ! -d "$PYTHON_ARM64" ]; then
    PY=python$(testbed_exec 'python3 -c "import sys; print(\"%d.%d\" % sys.version_info[:2])"')
    step "unpacking Debian's arm64 $PY into $PYTHON_ARM64"
    timed testbed_exec "set -e
        rm -rf $PYTHON_ARM64.partial /var/tmp/python-arm64-debs
        mkdir -p $PYTHON_ARM64.partial /var/tmp/python-arm64-debs
        cd /var/tmp/python-arm64-debs
        apt-get download -q -o APT::Sandbox::User=root $PY-minimal:arm64 \
            lib$PY-minimal:arm64 lib$PY-stdlib:arm64 >/var/log/testbed-python-arm64.log 2>&1 ||
            { tail -n 20 /var/log/testbed-python-arm64.log; exit 1; }
        for d in *.deb; do dpkg-deb -x \$d $PYTHON_ARM64.partial; done
        cd / && rm -rf /var/tmp/python-arm64-debs
        mv $PYTHON_ARM64.partial $PYTHON_ARM64"
fi

testbed_exec 'apt-get clean'
echo "$WANT" >"$STAMP"
step "ready: $(testbed_exec 'bazel --version 2>/dev/null | head -n1')"
