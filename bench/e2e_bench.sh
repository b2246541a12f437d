#!/usr/bin/env bash
# End to end, against what users would pick instead: one binary, on a synthetic
# deps set of a given size (bench/synth, @pyimage_bench_deps) or on the pytorch
# example's wheels (bench/torch, `torch`), as
#   (a) py_image                      py_image's layers (layer-splitter)
#   (b) pkg_tar_image                 python / deps / app as rules_pkg pkg_tar writes them
#   (c) single_image                  one pkg_tar of everything (a Dockerfile's COPY)
# each pushed with its push target to a local registry of its own (docker-registry).
# Per run and variant:
#   cold        `bazel clean`, an empty disk cache, built: everything, the Rust tools
#               from source included (a synthetic set is also new: a new seed)
#   push        that image pushed
#   edit        an app edit, built
#   edit+push   another app edit, built and pushed
#   new deps    (synthetic sets) a new deps set of the same size (a lock change), built
#               with everything else warm
# and the bytes each push stores in the registry and the cold build and the edits
# store in the disk cache (both empty at the start of each run and variant, so
# the first push includes the base's layer). Prints medians and the ratios of
# (b) and (c) to (a).
# Not a test: it never fails on timings.
#
#   bench/e2e_bench.sh [RUNS] [SET,...] [VARIANT,...]  # default: 3 runs, 1024 MiB, all three
#   bench/e2e_bench.sh 3 1024,10240                    # 1 GiB and 10 GiB of synthetic deps
#   bench/e2e_bench.sh 1 10240 py_image,pkg_tar_image  # (c) rebuilds it all on every edit
#   bench/e2e_bench.sh 1 torch                         # the pytorch example's wheels
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"
# shellcheck source=dev/suites/lib.sh
. "$REPO/dev/suites/lib.sh"
e2e_workdir "$(mktemp -d "$REPO/.bench.XXXXXX")"
# An output base of its own, removed at the end: 10 GiB of deps and the
# variants' outputs would otherwise stay in the checkout's (tens of GB).
mkdir -p "$TESTBED_CACHE/tmp"
OUTPUT_BASE=$(mktemp -d "$TESTBED_CACHE/tmp/bench-output.XXXXXX")
bazelw() { BAZELW_STARTUP_OPTS="--output_base=$OUTPUT_BASE" "$REPO/bazelw" "$@"; }
RUNS=${1:-3}
SETS=${2:-1024}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS=$RUNS: give a positive number of runs" >&2; exit 2; }
[[ $SETS =~ ^([1-9][0-9]*|torch)(,([1-9][0-9]*|torch))*$ ]] || { echo "sets '$SETS': give MiB of synthetic deps or torch, comma-separated, e.g. 1024,10240,torch" >&2; exit 2; }
IFS=, read -r -a VARIANTS <<<"${3:-py_image,pkg_tar_image,single_image}"
for v in "${VARIANTS[@]}"; do
    case "$v" in py_image | pkg_tar_image | single_image) ;; *) echo "variant '$v': expected py_image, pkg_tar_image or single_image" >&2; exit 2 ;; esac
done
[ "${VARIANTS[0]}" = py_image ] || { echo "variants '$3': py_image comes first, the others are measured against it" >&2; exit 2; }
DEPS_SET=bench/synth/deps_set.txt
keep "$DEPS_SET"
keep bench/synth/app.py
keep examples/pytorch/serve.py
RESULTS=$WORK/results.tsv
# Each run a deps set no earlier build has seen.
NONCE=$(date +%s)
: >"$RESULTS"

now() { date +%s%N; }
# A registry of its own for each variant and run (docker-registry), emptied
# after it, so that each push stores what it would in a registry of its own,
# and a disk cache the same way: at 10 GiB of deps, keeping them all would
# not fit on the disk.
declare -A PORT
start_variant_registry() { # variant
    mkdir -p "$WORK/registries/$1"
    start_registry "$WORK/registries/$1"
    PORT[$1]=$REGISTRY_PORT
}
stop_registries() {
    local d
    for d in "$WORK"/registries/*/; do [ -d "$d" ] && stop_registry "$d"; done
    rm -rf "$WORK/registries"
}
cleanup() {
    stop_registries
    bazelw shutdown >/dev/null 2>&1 || true
    chmod -R u+w "$OUTPUT_BASE" 2>/dev/null
    rm -rf "$OUTPUT_BASE"
    _e2e_cleanup
}
trap cleanup EXIT
blob_bytes() { du -sb "$WORK/registries/$1/registry" 2>/dev/null | cut -f1 || echo 0; } # variant
push_target() { # variant -> push target
    if [ "$1" = py_image ]; then echo "//$PKG:push_bench_latest"; else echo "//$PKG:push_$1"; fi
}
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; } # set variant metric value

bazel_build() { # variant flags...
    bazelw build "//$PKG:$1" "${@:2}" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
}
bazel_push() { # variant flags...
    local repo="127.0.0.1:${PORT[$1]}/bench/$1" extra=()
    [ "$1" = py_image ] || extra=(--tag latest)
    bazelw run "$(push_target "$1")" "${@:2}" -- --repository "$repo" ${extra[@]+"${extra[@]}"} >"$WORK/push.log" 2>&1 ||
        { cat "$WORK/push.log"; exit 1; }
}
build_and_push() { bazel_build "$@" && bazel_push "$@"; }
edit_app() { printf '# edit %s\n' "$(now)" >>"$APP"; }
new_deps_set() { # MiB seed
    printf 'mib=%s\nseed=%s\n' "$1" "$2" >"$DEPS_SET"
}
timed() { # set variant metric command...: runs it, records its wall seconds
    local start
    start=$(now)
    "${@:4}"
    record "$1" "$2" "$3" "$(awk -v ns="$(($(now) - start))" 'BEGIN { printf "%.2f", ns / 1e9 }')"
}
stored() { # set variant metric command...: runs it, records the registry's growth in bytes
    local before
    before=$(blob_bytes "$2")
    "${@:4}"
    record "$1" "$2" "$3" "$(($(blob_bytes "$2") - before))"
}

# The server started and everything built once before anything is timed (from
# the shared disk cache where it has them), on a 1 MiB deps set: what a run
# measures warm (push, edit, new deps) is warm from its first run on.
echo "== warming up: the server, the repositories and a first build" >&2
new_deps_set 1 warm-up
targets=()
for v in "${VARIANTS[@]}"; do targets+=("//bench/synth:$v"); done
# Every output downloaded, in the warm-up as in the runs: the runs' disk cache
# is removed after each, and a server that only remembered an output's digest
# would ask it for it.
DOWNLOAD_ALL=(--remote_download_outputs=all)
bazelw build "${targets[@]}" "${DOWNLOAD_ALL[@]}" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }

for set in ${SETS//,/ }; do
    if [ "$set" = torch ]; then PKG=bench/torch APP=examples/pytorch/serve.py; else PKG=bench/synth APP=bench/synth/app.py; fi
    for run in $(seq 1 "$RUNS"); do
        for v in "${VARIANTS[@]}"; do
            flags=(--disk_cache="$WORK/disk_cache" "${DOWNLOAD_ALL[@]}")
            echo "== $set, run $run/$RUNS: $v" >&2
            start_variant_registry "$v"
            # A seed of its own per variant and build: each pays for Bazel digesting a
            # deps set it has not seen. Writing it is the repository's fetch, not the
            # build's: done first, as is fetching the torch wheels (`bazel clean` keeps
            # external repositories, as a repository cache would).
            [ "$set" = torch ] || new_deps_set "$set" "$NONCE-$set-$run-$v"
            bazelw build --nobuild "//$PKG:$v" "${flags[@]}" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
            bazelw clean >/dev/null 2>&1
            timed "$set" "$v" "cold" bazel_build "$v" "${flags[@]}"
            stored "$set" "$v" "push bytes" timed "$set" "$v" "push" bazel_push "$v" "${flags[@]}"
            edit_app
            timed "$set" "$v" "edit" bazel_build "$v" "${flags[@]}"
            edit_app
            stored "$set" "$v" "edit+push bytes" timed "$set" "$v" "edit+push" build_and_push "$v" "${flags[@]}"
            restore "$APP"
            record "$set" "$v" "disk cache bytes" "$(du -sb "$WORK/disk_cache" | cut -f1)"
            if [ "$set" != torch ]; then
                new_deps_set "$set" "$NONCE-$set-$run-$v-new"
                bazelw build --nobuild "//$PKG:$v" "${flags[@]}" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
                timed "$set" "$v" "new deps" bazel_build "$v" "${flags[@]}"
            fi
            rm -rf "$WORK/disk_cache"
            stop_registries
        done
    done
done

python3 - "$RESULTS" "$RUNS" "${VARIANTS[@]}" <<'PY'
import collections, statistics, sys

rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    deps, variant, metric, value = line.rstrip("\n").split("\t")
    rows[(deps, metric, variant)].append(float(value))
metrics = ["cold", "new deps", "push", "edit", "edit+push", "push bytes", "edit+push bytes", "disk cache bytes"]
variants = sys.argv[3:]

def show(metric, value):
    if metric.endswith("bytes"):
        return f"{value / 1e6:,.1f} MB"
    return f"{value:.2f} s"

print(f"medians of {sys.argv[2]} runs; ratios are variant / py_image")
print(f"| deps | metric | {' | '.join(variants)} | {' | '.join(v + ' / py_image' for v in variants[1:])} |")
print("|---|---|" + "---|" * (2 * len(variants) - 1))
def label(deps):
    return deps if deps == "torch" else f"{int(deps) / 1024:g} GiB"

for deps in sorted({k[0] for k in rows}, key=lambda d: (d == "torch", int(d) if d.isdigit() else 0)):
    for metric in metrics:
        med = {v: statistics.median(rows[(deps, metric, v)]) for v in variants if rows.get((deps, metric, v))}
        if len(med) < len(variants):
            continue
        ratios = [f"{med[v] / med['py_image']:.2f}x" if med["py_image"] else "-" for v in variants[1:]]
        print(f"| {label(deps)} | {metric} | {' | '.join(show(metric, med[v]) for v in variants)} | {' | '.join(ratios)} |")
PY
