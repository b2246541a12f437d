#!/usr/bin/env bash
# Run every test of the project: the README's test command and what CI runs.
#
#   dev/test_all.sh            # all suites
#   dev/test_all.sh cargo lint # only some: cargo, lint, bazel, errors, incremental, repro, e2e, rex, ml
#   dev/test_all.sh smoke      # e2e/smoke, with PYIMAGE_EXTRA_BAZELRC naming rules_python >= 1 (DEVELOPERS.md)
#
# Sets up what it needs on a fresh Debian machine (as root): host packages for
# the Rust integration tests, buildifier from npm, and the Bazel test bed.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"

BUILDIFIER_VERSION=8.2.1
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(cargo lint bazel errors incremental repro e2e rex ml)
results=()
failed=0
# Each run's own logs, so runs from two clones at once do not mix their summaries.
mkdir -p "$TESTBED_CACHE/tmp"
LOGS=$(mktemp -d "$TESTBED_CACHE/tmp/test_all.XXXXXX")
trap 'rm -rf "$LOGS"' EXIT

banner() { printf '\n\033[1m==== %s\033[0m\n' "$*"; }
record() { # name status seconds
    results+=("$(printf '%-28s %-4s %4ss' "$1" "$([ "$2" = 0 ] && echo PASS || echo FAIL)" "$3")")
    [ "$2" = 0 ] || failed=1
}
run_suite() { # name command...
    local name=$1 start=$SECONDS status
    shift
    banner "$name"
    "$@"
    status=$?
    record "$name" "$status" $((SECONDS - start))
}

host_packages() {
    local missing=()
    command -v bsdtar >/dev/null || missing+=(libarchive-tools)
    command -v zstd >/dev/null || missing+=(zstd)
    command -v pigz >/dev/null || missing+=(pigz)
    command -v readelf >/dev/null || missing+=(binutils)
    command -v patchelf >/dev/null || missing+=(patchelf)
    [ -x /usr/bin/time ] || missing+=(time)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing host packages: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
    fi
}

cargo_tests() {
    host_packages || return 1
    (cd tools && cargo test --locked --all-targets 2>&1) | tee "$LOGS/cargo-test.log"
    local status=${PIPESTATUS[0]}
    echo "cargo summary:"
    grep -E '^test result:' "$LOGS/cargo-test.log" | sed 's/^/  /'
    return "$status"
}

lint() {
    local dir="$TESTBED_CACHE/node"
    local bin="$dir/node_modules/.bin/buildifier"
    if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null | sed -n 's/^buildifier version: //p')" != "$BUILDIFIER_VERSION" ]; then
        mkdir -p "$dir"
        npm install --silent --no-audit --no-fund --prefix "$dir" "@bazel/buildifier@$BUILDIFIER_VERSION" || return 1
    fi
    local files
    mapfile -t files < <(git ls-files '*.bzl' '*.bazel' 'BUILD' 'WORKSPACE' '*.BUILD')
    if "$bin" -lint=warn -mode=check "${files[@]}"; then
        echo "buildifier: ${#files[@]} files clean"
    else
        echo "buildifier: fix with: $bin -lint=fix -mode=fix \$(git ls-files '*.bzl' '*.bazel')"
        return 1
    fi
    # Bazel's convenience links (bazel-bin, bazel-<workspace>, ...) point into this
    # machine's output base: a workspace's belong in .gitignore, never in a commit.
    local links
    links=$(git ls-files -s | awk -F '\t' '$1 ~ /^120000 / && $2 ~ /(^|\/)bazel-[^\/]+$/ { print $2 }')
    if [ -n "$links" ]; then
        echo "Bazel's output links are tracked (git rm --cached them, list the workspace in .gitignore):"
        sed 's/^/  /' <<<"$links"
        return 1
    fi
}

bazel_test() { # workspace dir
    (cd "$1" && "$REPO/bazelw" test //... 2>&1) | tee "$LOGS/bazel-test.log"
    local status=${PIPESTATUS[0]}
    echo "bazel summary ($1):"
    grep -E '^(//|@)[^ ]+ +(\(cached\) )?(PASSED|FAILED|TIMEOUT|NO STATUS|FLAKY)|^Executed .* tests?|test(s)? pass|fail' \
        "$LOGS/bazel-test.log" | grep -v '^INFO' | sed 's/^/  /'
    return "$status"
}

# Output bases of checkouts that no longer exist (earlier CI clones, test
# clones) and a disk cache grown past its cap would fill the disk: the ML
# examples alone take ~25 GB per output base.
DISK_CACHE_CAP_GB=${PYIMAGE_DISK_CACHE_CAP_GB:-20}
prune_cache() {
    local base workspace pid
    for base in "$TESTBED_CACHE"/bazel/*/; do
        [ -f "$base/DO_NOT_BUILD_HERE" ] || continue
        workspace=$(cat "$base/DO_NOT_BUILD_HERE")
        [ -d "$workspace" ] && continue
        pid=$(cat "$base/server/server.pid.txt" 2>/dev/null) && kill "$pid" 2>/dev/null
        echo "removing the output base of $workspace (gone): $(du -sh "$base" 2>/dev/null | cut -f1)"
        chmod -R u+w "$base" 2>/dev/null
        rm -rf "$base"
    done
    local cache="$TESTBED_CACHE/disk-cache" cap=$((DISK_CACHE_CAP_GB * 1024 * 1024 * 1024)) size
    [ -d "$cache" ] || return 0
    size=$(du -sb "$cache" | cut -f1)
    [ "$size" -gt "$cap" ] || return 0
    echo "disk cache is $((size >> 30)) GB, over its $DISK_CACHE_CAP_GB GB cap: removing the least recently used entries"
    # oldest access first; delete until 3/4 of the cap is left
    find "$cache" -type f -printf '%A@ %s %p\n' | sort -n | awk -v excess=$((size - cap * 3 / 4)) '
        { if (freed >= excess) exit; freed += $2; sub(/^[^ ]+ [^ ]+ /, ""); print }' |
        xargs -r -d '\n' rm -f
}

# Free space each suite needs on the cache's file system, in GB: the ML
# examples take ~22 GB of output base (wheels, layers, layouts) plus ~6 GB in
# the disk cache; the others a few GB. A suite that runs out of space fails
# deep inside Bazel (a disk-cache copy that cannot be written), so make room
# first, or stop with the reason.
free_gb() { df -P -B1G "$TESTBED_CACHE" | awk 'NR == 2 { print $4 }'; }
ensure_free_space() { # GB suite
    local need=$1 suite=$2 base workspace pid
    [ "$(free_gb)" -ge "$need" ] && return 0
    if [ "${PYIMAGE_KEEP_OUTPUT_BASES:-}" != 1 ]; then
        # Output bases of other checkouts whose Bazel server is not running,
        # least recently used first: caches, so nothing but build time is lost.
        while read -r base; do
            [ "$(free_gb)" -ge "$need" ] && break
            workspace=$(cat "$base/DO_NOT_BUILD_HERE" 2>/dev/null) || continue
            case "$workspace/" in "$REPO"/*) continue ;; esac
            pid=$(cat "$base/server/server.pid.txt" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && continue
            echo "making room for '$suite' (needs $need GB free, $(free_gb) GB are): removing the idle output base of $workspace ($(du -sh "$base" 2>/dev/null | cut -f1))"
            chmod -R u+w "$base" 2>/dev/null
            rm -rf "$base"
        done < <(for b in "$TESTBED_CACHE"/bazel/*/; do
            [ -f "$b/DO_NOT_BUILD_HERE" ] && printf '%s %s\n' "$(stat -c %Y "$b/command.log" 2>/dev/null || stat -c %Y "$b")" "${b%/}"
        done | sort -n | cut -d' ' -f2-)
    fi
    [ "$(free_gb)" -ge "$need" ] && return 0
    echo "error: '$suite' needs $need GB free on $(df -P "$TESTBED_CACHE" | awk 'NR == 2 { print $6 }') and $(free_gb) GB are; the largest users:" >&2
    du -sh "$TESTBED_CACHE"/bazel/*/ "$TESTBED_CACHE/disk-cache" 2>/dev/null | sort -rh | head -5 >&2
    if [ "${PYIMAGE_KEEP_OUTPUT_BASES:-}" = 1 ]; then
        echo "unset PYIMAGE_KEEP_OUTPUT_BASES to let this runner remove idle output bases of other checkouts, or free space by hand" >&2
    else
        echo "free space: stop the Bazel servers of checkouts you no longer use (./bazelw shutdown there) so their output bases can go, or lower PYIMAGE_DISK_CACHE_CAP_GB" >&2
    fi
    return 1
}
declare -A NEED_GB=([ml]=30 [repro]=10 [rex]=10)

mkdir -p "$TESTBED_CACHE"
prune_cache
for suite in "${SUITES[@]}"; do
    if ! ensure_free_space "${NEED_GB[$suite]:-5}" "$suite"; then
        record "$suite (no disk space)" 1 0
        continue
    fi
    case "$suite" in
    cargo) run_suite "cargo test (tools/)" cargo_tests ;;
    lint) run_suite "buildifier lint" lint ;;
    bazel)
        run_suite "bazel test //... (root)" bazel_test "$REPO"
        # the optional rules_img add-on, a module of its own, on the rules_img stand-in
        run_suite "bazel test //... (img)" bazel_test img
        # its presubmit module's BUILD file, through bazel_dep, in the test bed
        run_suite "bazel test //... (img/e2e/smoke_testbed)" bazel_test img/e2e/smoke_testbed
        ;;
    errors) run_suite "build-time errors, stamping" dev/suites/errors_test.sh ;;
    incremental) run_suite "incremental rebuild" dev/suites/incremental_test.sh ;;
    repro) run_suite "reproducible + remote cache" dev/suites/repro_test.sh ;;
    ml) run_suite "ML examples (torch, JAX)" dev/suites/ml_test.sh ;;
    # e2e/smoke is written for rules_python >= 1, which the test bed only has
    # from a checkout (DEVELOPERS.md): `smoke` runs it, `e2e` its test-bed twin.
    # and the same workspace on prebuilt tools from the release's own scripts.
    e2e)
        run_suite "bazel test //... (e2e/smoke_testbed)" bazel_test e2e/smoke_testbed
        run_suite "prebuilt tools (e2e/smoke_testbed)" dev/suites/prebuilt_test.sh
        ;;
    smoke) run_suite "bazel test //... (e2e/smoke)" dev/suites/smoke_test.sh ;;
    rex) run_suite "remote execution (BuildGrid)" dev/suites/remote_exec_test.sh ;;
    *) die "unknown suite '$suite' (expected cargo, lint, bazel, errors, incremental, repro, e2e, smoke, rex or ml)" ;;
    esac
done

banner "summary"
printf '%s\n' "${results[@]}"
[ "$failed" = 0 ] && echo "ALL PASSED" || echo "SOME FAILED"
exit "$failed"
