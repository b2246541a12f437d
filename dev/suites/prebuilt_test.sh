#!/usr/bin/env bash
# Prebuilt tools through the module's own extension: the tools built as a
# release builds them (dev/release/build_tools.sh), twice, from sources at two
# paths, to the same bytes; the pinned table written by
# the release's script (dev/release/write_prebuilt_table.py) with file:// URLs,
# and e2e/smoke_testbed, in a fresh output base, builds and tests its image with
# no Rust compile and no crate fetched, and its image on the test bed's root
# file system runs under runc (unpacked by umoci) and prints what it should.
# A wrong checksum fails the build with the
# message that says what to do, and what it advises (--@rules_pyimage//tools:from_source)
# then builds with the source toolchain.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"
# shellcheck source=dev/suites/lib.sh
. "$REPO/dev/suites/lib.sh"
mkdir -p "$TESTBED_CACHE/tmp"
e2e_workdir "$(mktemp -d "$TESTBED_CACHE/tmp/prebuilt.XXXXXX")"
fail() { echo "FAIL: $*"; exit 1; }

case "$(uname -m)" in
x86_64) PLATFORM=linux_x86_64 ;;
aarch64) PLATFORM=linux_aarch64 ;;
*) die "no prebuilt tools platform for $(uname -m)" ;;
esac
TARGET=$(rustc -vV | sed -n 's/^host: //p')

echo "== the tools for $PLATFORM ($TARGET), built as a release builds them"
# a cache of its own: the release flags differ from tools/target's
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
CARGO_TARGET_DIR="$TESTBED_CACHE/cargo-release-tools" dev/release/build_tools.sh "$PLATFORM" "$TARGET" "$WORK/dist" 2>&1 | tail -n 3

echo "== the same tools from a copy of the sources elsewhere (another checkout path, target directory, cargo home and umask)"
ELSEWHERE="$WORK/elsewhere/rules_pyimage"
mkdir -p "$ELSEWHERE" "$WORK/elsewhere/cargo"
tar -C "$REPO" --exclude=./tools/target -cf - ./tools ./dev/release ./rules/private/prebuilt_platforms.bzl | tar -C "$ELSEWHERE" -xf -
# The crates the first build fetched, seen through another cargo home: rustc
# gets their sources by that path, which a missing remap would leave in the binaries.
ln -s "${CARGO_HOME:-$HOME/.cargo}/registry" "$WORK/elsewhere/cargo/registry"
(umask 077 && CARGO_HOME="$WORK/elsewhere/cargo" CARGO_TARGET_DIR="$TESTBED_CACHE/cargo-release-tools-elsewhere" \
    "$ELSEWHERE/dev/release/build_tools.sh" "$PLATFORM" "$TARGET" "$WORK/dist-elsewhere" 2>&1 | tail -n 3)
for tool in layer-splitter pyimage-meta; do
    cmp -s "$WORK/dist/$tool-$PLATFORM.sha256" "$WORK/dist-elsewhere/$tool-$PLATFORM.sha256" ||
        fail "$tool-$PLATFORM differs between two builds of the same sources: $(cat "$WORK/dist/$tool-$PLATFORM.sha256") vs $(cat "$WORK/dist-elsewhere/$tool-$PLATFORM.sha256") (a path, time or umask reaches the binary)"
done
echo "PASS: both builds give the same binaries ($(cut -c1-12 "$WORK/dist/layer-splitter-$PLATFORM.sha256")…, $(cut -c1-12 "$WORK/dist/pyimage-meta-$PLATFORM.sha256")…)"

keep tools/prebuilt_tools.bzl
write_table() { # checksum directory
    python3 dev/release/write_prebuilt_table.py --url-prefix "file://$WORK/dist" --platforms "$PLATFORM" \
        --output tools/prebuilt_tools.bzl "$1"/*.sha256
}
write_table "$WORK/dist"

# e2e/smoke_testbed in an output base of its own, stopped and removed on exit.
OUTPUT_BASE="$WORK/output_base"
smoke() { (cd e2e/smoke_testbed && BAZELW_STARTUP_OPTS="--output_base=$OUTPUT_BASE" "$REPO/bazelw" "$@"); }
cleanup() {
    smoke shutdown >/dev/null 2>&1 || true
    chmod -R u+w "$OUTPUT_BASE" 2>/dev/null || true
    _e2e_cleanup
}
trap cleanup EXIT

# exec log, then: summary line; exit 1 unless the expectation holds
check_log() { # exec log, expect (prebuilt|source)
    python3 - "$1" "$2" "$PLATFORM" <<'PY'
import json, sys
path, expect, platform = sys.argv[1:]
text, spawns, pos, dec = open(path).read(), [], 0, json.JSONDecoder()
while pos < len(text):
    if text[pos].isspace():
        pos += 1
        continue
    obj, pos = dec.raw_decode(text, pos)
    spawns.append(obj)
rust = [s for s in spawns if s.get("mnemonic", "").startswith(("Rustc", "CargoBuildScript"))]
layers = [s for s in spawns if s.get("mnemonic") == "PyImageLayer"]
prebuilt = f"+pyimage_tools_{platform}/layer-splitter"
def tool_of(spawn):
    return [i["path"] for i in spawn.get("inputs", []) if i["path"].endswith("/layer-splitter")]
tools = sorted({p for s in layers for p in tool_of(s)})
print(f"execution log: {len(rust)} Rust compile actions (Rustc, build scripts), {len(layers)} PyImageLayer actions, "
      f"{len(spawns)} actions total; layer-splitter: {', '.join(tools) or 'none'}")
# (a tool's runfiles hold a second copy of it)
ok = bool(layers) and bool(tools)
if expect == "prebuilt":
    ok = ok and not rust and all(t.endswith(prebuilt) for t in tools)
else:
    ok = ok and bool(rust) and all(t.endswith("/tools/pyimage/layer-splitter") and prebuilt not in t for t in tools)
sys.exit(0 if ok else 1)
PY
}

echo "== e2e/smoke_testbed with the prebuilt tools (fresh output base)"
# //testbed:image: the smoke binary on the test bed's root file system, run below.
smoke test //:config_test //:layers_test //testbed:image --execution_log_json_file="$WORK/prebuilt.json" >"$WORK/build.log" 2>&1 ||
    { tail -n 40 "$WORK/build.log"; fail "e2e/smoke_testbed did not build and pass with the prebuilt tools"; }
check_log "$WORK/prebuilt.json" prebuilt ||
    fail "expected the layer actions to run the prebuilt layer-splitter and no Rust compile"
crate_repos() { find "$OUTPUT_BASE/external" -maxdepth 1 -name '*pyimage_crates*' | wc -l; }
crates=$(crate_repos)
[ "$crates" = 0 ] || fail "the build fetched @pyimage_crates ($crates repositories in $OUTPUT_BASE/external)"
echo "PASS: image built and tested with the prebuilt tools; no Rust compile, no crate repository fetched"

echo "== the consumer's image runs under runc (unpacked by umoci)"
layout=$(smoke cquery //testbed:image --output=files 2>/dev/null)
[ -f "e2e/smoke_testbed/$layout/index.json" ] || fail "no OCI layout for //testbed:image at e2e/smoke_testbed/$layout"
layout=$(cd "e2e/smoke_testbed/$layout" && pwd -P)
# What hello.py must print, from sources other than the image: the path the
# README gives the main repository's files, six's version in the lock, and the
# version of the test bed's python3, the interpreter the python layer carries.
six=$(sed -n 's/^six==\([^ ]*\).*/\1/p' e2e/smoke/requirements_lock.txt)
python=$(testbed_exec "python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
want="hello from /app/hello.runfiles/_main/hello.py with six $six on python $python"
container="pyimage-prebuilt-$$"
testbed_exec "set -e
    skopeo copy -q oci:$layout oci:$WORK/run-layout:run
    umoci unpack --image $WORK/run-layout:run $WORK/bundle >/dev/null
    jq '.process.terminal = false' $WORK/bundle/config.json >$WORK/config.json
    mv $WORK/config.json $WORK/bundle/config.json
    status=0
    runc run -b $WORK/bundle $container >$WORK/run.out 2>&1 </dev/null || status=\$?
    runc delete -f $container >/dev/null 2>&1 || true
    echo \$status >$WORK/run.status" || fail "could not unpack //testbed:image with umoci or start it with runc"
sed 's/^/  | /' "$WORK/run.out"
[ "$(cat "$WORK/run.status")" = 0 ] || fail "//testbed:image exited with $(cat "$WORK/run.status") under runc"
grep -qxF -- "$want" "$WORK/run.out" || fail "//testbed:image did not print '$want'"
# runc ran what the image config says (umoci's runtime config, read with json)
python3 - "$WORK/bundle/config.json" <<'PY' || fail "runc did not run the image's entrypoint and cmd as user 65532 in /app"
import json, sys
process = json.load(open(sys.argv[1]))["process"]
print(f"ran {process['args']} as uid {process['user']['uid']} in {process['cwd']}")
ok = process["args"][-3:] == ["/app/hello", "--greeting", "hello, world"]
sys.exit(0 if ok and process["user"]["uid"] == 65532 and process["cwd"] == "/app" else 1)
PY
echo "PASS: the image built with the prebuilt tools runs under runc and prints: $want"

echo "== a wrong checksum in the table"
mkdir -p "$WORK/bad"
cp "$WORK"/dist/*.sha256 "$WORK/bad/"
bad_sha=$(printf 'not the release binary' | sha256sum | cut -d' ' -f1)
good_sha=$(cut -d' ' -f1 "$WORK/dist/layer-splitter-$PLATFORM.sha256")
printf '%s  %s\n' "$bad_sha" "layer-splitter-$PLATFORM" >"$WORK/bad/layer-splitter-$PLATFORM.sha256"
write_table "$WORK/bad"
if smoke build //:image >"$WORK/bad.log" 2>&1; then
    fail "the build passed with a wrong checksum for layer-splitter"
fi
for want in "the prebuilt layer-splitter for $PLATFORM does not match its pinned checksum" \
    "url:      file://$WORK/dist/layer-splitter-$PLATFORM" \
    "expected: sha256 $bad_sha" "actual:   sha256 $good_sha" \
    "Build the tools from source instead with --@rules_pyimage//tools:from_source"; do
    grep -qF -- "$want" "$WORK/bad.log" || { tail -n 30 "$WORK/bad.log"; fail "the failure does not say '$want'"; }
done
echo "PASS: a wrong checksum fails with: $(grep -F 'Error in fail: rules_pyimage: the prebuilt' "$WORK/bad.log" | head -n1)"

echo "== the same wrong table with --@rules_pyimage//tools:from_source"
smoke build //:image --@rules_pyimage//tools:from_source --execution_log_json_file="$WORK/source.json" >"$WORK/source.log" 2>&1 ||
    { tail -n 40 "$WORK/source.log"; fail "--@rules_pyimage//tools:from_source did not build the image"; }
check_log "$WORK/source.json" source ||
    fail "expected --@rules_pyimage//tools:from_source to compile the tools and run them in the layer actions"
# the check above for no crate repository can see one
[ "$(crate_repos)" -gt 0 ] || fail "no @pyimage_crates repository in $OUTPUT_BASE/external after building from source"
echo "PASS: --@rules_pyimage//tools:from_source builds with the source toolchain and never fetches the prebuilt tools"
