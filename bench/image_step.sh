#!/usr/bin/env bash
# How long rules_oci's image step takes after an app edit, with a 1 GiB layer in
# the image (bench:image_1g): the app layer is rebuilt, the image assembled
# again, every other layer must not be read. Prints medians over RUNS edits of
# examples/flask_app/app.py, and the ratio between two rules_oci when given two
# rc files (e.g. the stand-in and a checkout of the real module, DEVELOPERS.md):
#
#   bench/image_step.sh [RUNS]                       # whatever ./bazelw uses
#   bench/image_step.sh RUNS - real-oci.bazelrc      # stand-in vs real
#
# "-" means ./bazelw's own rc (the stand-in). Times are from Bazel's execution
# log (each spawn's wall time) and the build's wall time.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"
# shellcheck source=dev/suites/lib.sh
. "$REPO/dev/suites/lib.sh"
e2e_workdir "$(mktemp -d "$REPO/.bench.XXXXXX")"
RUNS=${1:-5}
shift || true
[ $# -gt 0 ] || set -- "${PYIMAGE_EXTRA_BAZELRC:--}"
keep examples/flask_app/app.py

measure() { # rc -> one line per run: build seconds, OCIImage seconds, OCIDescriptor spawns
    local rc=$1 i start
    if [ "$rc" = - ]; then unset PYIMAGE_EXTRA_BAZELRC; else export PYIMAGE_EXTRA_BAZELRC=$rc; fi
    ./bazelw build //bench:image_1g >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
    for i in $(seq 1 "$RUNS"); do
        printf '# edit %s %s\n' "$i" "$(date +%s%N)" >>examples/flask_app/app.py
        start=$(date +%s%N)
        ./bazelw build //bench:image_1g --execution_log_json_file="$WORK/exec.json" >"$WORK/build.log" 2>&1 ||
            { cat "$WORK/build.log"; exit 1; }
        python3 - "$WORK/exec.json" "$(( $(date +%s%N) - start ))" <<'PY'
import json, sys
text, spawns, pos = open(sys.argv[1]).read(), [], 0
decoder = json.JSONDecoder()
while pos < len(text.rstrip()):
    while text[pos].isspace():
        pos += 1
    obj, pos = decoder.raw_decode(text, pos)
    spawns.append(obj)
def seconds(spawn):
    w = spawn.get("walltime") or spawn.get("metrics", {}).get("executionWallTime") or "0s"
    return float(w.rstrip("s"))
image = [seconds(s) for s in spawns if s.get("mnemonic") == "OCIImage"]
descriptors = [s for s in spawns if s.get("mnemonic") == "OCIDescriptor"]
print("%.3f %.3f %d" % (int(sys.argv[2]) / 1e9, sum(image), len(descriptors)))
PY
    done
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf '%-40s %12s %14s %12s\n' "rules_oci" "build (s)" "OCIImage (s)" "descriptors"
declare -A image_median
for rc in "$@"; do
    measure "$rc" >"$WORK/runs.txt"
    name=$([ "$rc" = - ] && echo "stand-in (dev/rules_oci)" || basename "$rc")
    b=$(cut -d' ' -f1 "$WORK/runs.txt" | median)
    o=$(cut -d' ' -f2 "$WORK/runs.txt" | median)
    d=$(cut -d' ' -f3 "$WORK/runs.txt" | median)
    image_median[$rc]=$o
    printf '%-40s %12s %14s %12s\n' "$name" "$b" "$o" "$d"
done
if [ $# -eq 2 ]; then
    awk -v a="${image_median[$1]}" -v b="${image_median[$2]}" 'BEGIN { if (b > 0) printf "OCIImage median ratio (first / second): %.2f\n", a / b }'
fi
