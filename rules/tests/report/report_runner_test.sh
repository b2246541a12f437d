#!/usr/bin/env bash
# report_runner_test.sh RUNNER: `bazel run :<image>_report` twice: the first prints the
# summary and the page's path (a file that exists), the second says which layers
# changed since the first (none: same build), from its state under XDG_CACHE_HOME.
set -euo pipefail
runner=$1
export XDG_CACHE_HOME=$TEST_TMPDIR/cache BUILD_WORKSPACE_DIRECTORY=/somewhere
first=$("$runner")
grep -q "^//:image: 3 layers above the base sha256:" <<<"$first" || { echo "FAIL: no summary line: $first"; exit 1; }
grep -q "since the last run" <<<"$first" && { echo "FAIL: a first run has nothing to compare with"; exit 1; }
page=$(sed -n 's|^HTML report: file://||p' <<<"$first")
[ -s "$page" ] && grep -q "<table id=\"layers\">" "$page" || { echo "FAIL: $page is not the report page"; exit 1; }
second=$("$runner")
want=$'  python: unchanged\n  deps: unchanged\n  app: unchanged'
got=$(sed -n '/^since the last run/,/^$/p' <<<"$second" | sed '1d;/^$/d')
[ "$got" = "$want" ] || { echo "FAIL: second run says: $got"; exit 1; }
# Another workspace's //:image has a state of its own.
other=$(BUILD_WORKSPACE_DIRECTORY=/elsewhere "$runner")
grep -q "since the last run" <<<"$other" && { echo "FAIL: another workspace saw this one's state"; exit 1; }
# A changed layer is named: the state says the app layer had another digest.
export XDG_CACHE_HOME=$TEST_TMPDIR/cache2
"$runner" >/dev/null
sed -i 's/^app sha256:.*/app sha256:0000/' "$XDG_CACHE_HOME"/rules_pyimage/reports/*.digests
grep -q "^  app: changed$" <<<"$("$runner")" || { echo "FAIL: an app layer of another digest is not called changed"; exit 1; }
echo "ok: the report runner prints the summary, the page and what changed"
