#!/usr/bin/env bash
# e2e/smoke (the Bazel Central Registry's presubmit module) in the test bed.
# The module itself knows nothing of the test bed: for the run, its
# MODULE.bazel gets the test bed's toolchain repositories, the same lines
# e2e/smoke_testbed declares, and is put back afterwards. Written for
# rules_python >= 1: PYIMAGE_EXTRA_BAZELRC names the checkouts (DEVELOPERS.md).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"
# shellcheck source=dev/suites/lib.sh
. "$REPO/dev/suites/lib.sh"
mkdir -p "$TESTBED_CACHE/tmp"
e2e_workdir "$(mktemp -d "$TESTBED_CACHE/tmp/smoke.XXXXXX")"

[ -n "${PYIMAGE_EXTRA_BAZELRC:-}" ] ||
    die "e2e/smoke needs rules_python >= 1, which the test bed has only from a checkout: set PYIMAGE_EXTRA_BAZELRC to an rc file that overrides it (DEVELOPERS.md, 'Running against the real modules')"

TESTBED_LINES=$(grep -E '^(testbed = use_extension\(|use_repo\(testbed, )' e2e/smoke_testbed/MODULE.bazel)
[ "$(printf '%s\n' "$TESTBED_LINES" | wc -l)" = 2 ] ||
    die "e2e/smoke_testbed/MODULE.bazel: expected one 'testbed = use_extension(' line and one 'use_repo(testbed, ' line, found: $TESTBED_LINES"
if grep -q 'dev/testbed' e2e/smoke/MODULE.bazel; then
    die "e2e/smoke/MODULE.bazel names the test bed: the presubmit module must not; this script adds what the test bed needs"
fi

keep e2e/smoke/MODULE.bazel
printf '\n# Added by dev/suites/smoke_test.sh for the run in the test bed.\n%s\n' "$TESTBED_LINES" >>e2e/smoke/MODULE.bazel
# Run, not read from the shared disk cache: the point is what the modules do now.
(cd e2e/smoke && "$REPO/bazelw" test //... --nocache_test_results 2>&1)
