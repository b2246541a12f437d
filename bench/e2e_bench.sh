#!/usr/bin/env bash
# End to end, against what users would pick instead: one binary on a synthetic
# deps set (bench/synth, @pyimage_bench_deps) as
#   (a) py_image                      python / deps / app layers (layer-splitter)
#   (b) pkg_tar_image                 the same three layers as rules_pkg pkg_tar writes them
#   (c) single_image                  one pkg_tar of everything (a Dockerfile's COPY)
# each pushed with its push target to a local registry of its own (docker-registry).
# Per run and variant:
#   new deps    a new deps set of the same size (a lock change: new seed), built
#   push        that image pushed
#   edit        an app edit, built
#   edit+push   another app edit, built and pushed
# and the bytes each push stores in the registry and the run's builds store in
# the disk cache (both empty at the start of each run and variant, so the first
# push includes the base's layer). Prints medians and the ratios of (b) and (c)
# to (a).
# Not a test: it never fails on timings.
#
#   bench/e2e_bench.sh [RUNS] [MiB,...] [VARIANT,...]  # default: 3 runs, 1024 MiB, all three
#   bench/e2e_bench.sh 3 1024,10240                    # 1 GiB and 10 GiB of deps
#   bench/e2e_bench.sh 1 10240 py_image,pkg_tar_image  # (c) rebuilds it all on every edit
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
SIZES=${2:-1024}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS=$RUNS: give a positive number of runs" >&2; exit 2; }
[[ $SIZES =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "sizes '$SIZES': give MiB of deps, comma-separated, e.g. 1024,10240" >&2; exit 2; }
IFS=, read -r -a VARIANTS <<<"${3:-py_image,pkg_tar_image,single_image}"
for v in "${VARIANTS[@]}"; do
    case "$v" in py_image | pkg_tar_image | single_image) ;; *) echo "variant '$v': expected py_image, pkg_tar_image or single_image" >&2; exit 2 ;; esac
done
[ "${VARIANTS[0]}" = py_image ] || { echo "variants '$3': py_image comes first, the others are measured against it" >&2; exit 2; }
APP=bench/synth/app.py
DEPS_SET=bench/synth/deps_set.txt
keep "$APP"
keep "$DEPS_SET"
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
push_target() { # variant -> push target and its arguments
    if [ "$1" = py_image ]; then echo "//bench/synth:push_bench_latest"; else echo "//bench/synth:push_$1"; fi
}
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; } # size variant metric value

bazel_build() { # variant flags...
    bazelw build "//bench/synth:$1" "${@:2}" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
}
bazel_push() { # variant flags...
    local repo="127.0.0.1:${PORT[$1]}/bench/$1" extra=()
    [ "$1" = py_image ] || extra=(--tag latest)
    bazelw run "$(push_target "$1")" "${@:2}" -- --repository "$repo" ${extra[@]+"${extra[@]}"} >"$WORK/push.log" 2>&1 ||
        { cat "$WORK/push.log"; exit 1; }
}
build_and_push() { bazel_build "$@" && bazel_push "$@"; }
edit_app() { printf '# edit %s\n' "$(now)" >>"$APP"; }
timed() { # size variant metric command...: runs it, records its wall seconds
    local start
    start=$(now)
    "${@:4}"
    record "$1" "$2" "$3" "$(awk -v ns="$(($(now) - start))" 'BEGIN { printf "%.2f", ns / 1e9 }')"
}
stored() { # size variant metric command...: runs it, records the registry's growth in bytes
    local before
    before=$(blob_bytes "$2")
    "${@:4}"
    record "$1" "$2" "$3" "$(($(blob_bytes "$2") - before))"
}

# The tools, the interpreter's layer and the base, built once before anything is
# timed (from the shared disk cache where it has them), on a 1 MiB deps set.
echo "== warming up: the tools and what no run changes" >&2
printf 'mib=1\nseed=warm-up\n' >"$DEPS_SET"
targets=()
for v in "${VARIANTS[@]}"; do targets+=("//bench/synth:$v"); done
# Every output downloaded, in the warm-up as in the runs: the runs' disk cache
# is removed after each, and a server that only remembered an output's digest
# would ask it for it.
DOWNLOAD_ALL=(--remote_download_outputs=all)
bazelw build "${targets[@]}" "${DOWNLOAD_ALL[@]}" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }

for mb in ${SIZES//,/ }; do
    for run in $(seq 1 "$RUNS"); do
        for v in "${VARIANTS[@]}"; do
            # A seed of its own per variant: each pays for Bazel digesting a deps set
            # it has not seen, as it would after a lock change.
            printf 'mib=%s\nseed=%s\n' "$mb" "$NONCE-$mb-$run-$v" >"$DEPS_SET"
            flags=(--disk_cache="$WORK/disk_cache" "${DOWNLOAD_ALL[@]}")
            echo "== $mb MiB, run $run/$RUNS: $v" >&2
            start_variant_registry "$v"
            # Writing the new deps set is the repository's fetch, not the build's: do it first.
            bazelw build --nobuild "//bench/synth:$v" "${flags[@]}" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
            timed "$mb" "$v" "new deps" bazel_build "$v" "${flags[@]}"
            stored "$mb" "$v" "push bytes" timed "$mb" "$v" "push" bazel_push "$v" "${flags[@]}"
            edit_app
            timed "$mb" "$v" "edit" bazel_build "$v" "${flags[@]}"
            edit_app
            stored "$mb" "$v" "edit+push bytes" timed "$mb" "$v" "edit+push" build_and_push "$v" "${flags[@]}"
            restore "$APP"
            record "$mb" "$v" "disk cache bytes" "$(du -sb "$WORK/disk_cache" | cut -f1)"
            rm -rf "$WORK/disk_cache"
            stop_registries
        done
    done
done

python3 - "$RESULTS" "$RUNS" "${VARIANTS[@]}" <<'PY'
import collections, statistics, sys

rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    size, variant, metric, value = line.rstrip("\n").split("\t")
    rows[(int(size), metric, variant)].append(float(value))
metrics = ["new deps", "push", "edit", "edit+push", "push bytes", "edit+push bytes", "disk cache bytes"]
variants = sys.argv[3:]

def show(metric, value):
    if metric.endswith("bytes"):
        return f"{value / 1e6:,.1f} MB"
    return f"{value:.2f} s"

print(f"medians of {sys.argv[2]} runs; ratios are variant / py_image")
print(f"| deps | metric | {' | '.join(variants)} | {' | '.join(v + ' / py_image' for v in variants[1:])} |")
print("|---|---|" + "---|" * (2 * len(variants) - 1))
for size in sorted({k[0] for k in rows}):
    for metric in metrics:
        med = {v: statistics.median(rows[(size, metric, v)]) for v in variants if rows.get((size, metric, v))}
        if len(med) < len(variants):
            continue
        ratios = [f"{med[v] / med['py_image']:.2f}x" if med["py_image"] else "-" for v in variants[1:]]
        print(f"| {size / 1024:g} GiB | {metric} | {' | '.join(show(metric, med[v]) for v in variants)} | {' | '.join(ratios)} |")
PY
