#!/usr/bin/env bash
# run_all with `parallel`: the targets run at once (their run times overlap and the
# whole takes about one target's time, where the sequential run_all of the same two
# takes both), each output line carries its target's label, and a failing target
# fails the run, by name, without stopping the other; with `stop_at_failure`, in
# turn, the targets after a failed one do not run.
set -uo pipefail
PARALLEL=$1 SEQUENTIAL=$2 STOP=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { # runner dir -> seconds taken; output in dir/out, status in dir/status
    mkdir -p "$2"
    local start end
    start=$(date +%s.%N)
    "$1" "$2" >"$2/out" 2>&1
    echo $? >"$2/status"
    end=$(date +%s.%N)
    python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$end"
}
p=$(run "$PARALLEL" "$TEST_TMPDIR/parallel")
s=$(run "$SEQUENTIAL" "$TEST_TMPDIR/sequential")
cat "$TEST_TMPDIR/parallel/out"
for mode in parallel sequential; do
    d=$TEST_TMPDIR/$mode
    [ "$(cat "$d/status")" != 0 ] || fail "$mode: exit status 0 although slow_fail exited 3"
    grep -q "error: failed: .*:slow_fail" "$d/out" || fail "$mode: the failure does not name slow_fail: $(cat "$d/out")"
    ! grep -q "error: failed: .*:slow_ok" "$d/out" || fail "$mode: slow_ok named as failed"
    [ -f "$d/slow_ok.end" ] && [ -f "$d/slow_fail.end" ] || fail "$mode: not every target ran to its end"
done
# stop_at_failure: slow_fail first, slow_ok named as not run and never started.
run "$STOP" "$TEST_TMPDIR/stop" >/dev/null
d=$TEST_TMPDIR/stop
[ "$(cat "$d/status")" != 0 ] || fail "stop: exit status 0 although slow_fail exited 3"
[ ! -f "$d/slow_ok.start" ] || fail "stop: slow_ok ran after slow_fail failed"
grep -q "== .*:slow_ok: not run, .*:slow_fail failed" "$d/out" || fail "stop: slow_ok not named as skipped: $(cat "$d/out")"
grep -q "error: failed: .*:slow_fail" "$d/out" || fail "stop: the failure does not name slow_fail: $(cat "$d/out")"
grep -q '^\[.*:slow_ok\] hello from slow_ok$' "$TEST_TMPDIR/parallel/out" || fail "parallel output lines are not prefixed with their target"
python3 - "$TEST_TMPDIR/parallel" "$p" "$s" <<'PY' || exit 1
import sys
d, p, s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
t = {f"{n}.{e}": float(open(f"{d}/{n}.{e}").read()) for n in ["slow_ok", "slow_fail"] for e in ["start", "end"]}
overlap = max(t["slow_ok.start"], t["slow_fail.start"]) < min(t["slow_ok.end"], t["slow_fail.end"])
if not overlap:
    sys.exit(f"FAIL: the parallel targets did not overlap: {t}")
if not (s >= 2.0 and p < s - 0.5):
    sys.exit(f"FAIL: parallel took {p:.2f} s, sequential {s:.2f} s")
print(f"PASS: parallel {p:.2f} s (targets overlapped), sequential {s:.2f} s; failures named; output prefixed")
PY
