#!/usr/bin/env bash
# dev/release/build_tools.sh PLATFORM TARGET OUTDIR
#
# Builds the layer-splitter and pyimage-meta for one exec platform the way a
# release does, and writes OUTDIR/<tool>-PLATFORM and OUTDIR/<tool>-PLATFORM.sha256
# (`sha256sum` format), which dev/release/write_prebuilt_table.py reads.
#
#   PLATFORM  linux_x86_64, linux_aarch64, macos_x86_64 or macos_arm64
#             (rules/private/prebuilt_platforms.bzl)
#   TARGET    the Rust target triple, e.g. x86_64-unknown-linux-musl
#
# Reproducible: `cargo build --locked`, SOURCE_DATE_EPOCH from the commit (or
# the environment), the checkout, target directory and cargo home remapped out
# of the binaries, symbols stripped. CARGO_TARGET_DIR may name a cache.
set -euo pipefail
[ $# = 3 ] || { echo "usage: $0 PLATFORM TARGET OUTDIR" >&2; exit 2; }
PLATFORM=$1 TARGET=$2 OUTDIR=$3
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS=(layer-splitter pyimage-meta)

grep -q "\"$PLATFORM\":" "$REPO/rules/private/prebuilt_platforms.bzl" ||
    { echo "error: unknown platform '$PLATFORM': use one of the keys of PREBUILT_PLATFORMS in rules/private/prebuilt_platforms.bzl" >&2; exit 1; }

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/tools/target/release-tools}
CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
export CARGO_INCREMENTAL=0
export RUSTFLAGS="--remap-path-prefix=$REPO=/rules_pyimage --remap-path-prefix=$CARGO_TARGET_DIR=/target --remap-path-prefix=$CARGO_HOME_DIR=/cargo -C strip=symbols ${EXTRA_RUSTFLAGS:-}"

(cd "$REPO/tools" && cargo build --locked --release --target "$TARGET" -p pyimage \
    $(printf -- '--bin %s ' "${TOOLS[@]}"))

mkdir -p "$OUTDIR"
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }
for tool in "${TOOLS[@]}"; do
    asset="$tool-$PLATFORM"
    cp "$CARGO_TARGET_DIR/$TARGET/release/$tool" "$OUTDIR/$asset.tmp"
    mv "$OUTDIR/$asset.tmp" "$OUTDIR/$asset"
    (cd "$OUTDIR" && sha256 "$asset" >"$asset.sha256.tmp" && mv "$asset.sha256.tmp" "$asset.sha256")
    cat "$OUTDIR/$asset.sha256"
done
