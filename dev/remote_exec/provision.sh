#!/usr/bin/env bash
# Add a Remote Execution API engine to the offline test bed, for
# dev/suites/remote_exec_test.sh:
#   - Debian's buildbox (buildbox-casd, buildbox-worker, buildbox-run-hosttools),
#   - Debian's PostgreSQL, which BuildGrid's scheduler needs (it refuses sqlite),
#   - BuildGrid, the server (CAS, action cache, execution, bots), from PyPI into a
#     venv of the test bed's CPython, at the versions requirements.txt pins.
#
#   dev/remote_exec/provision.sh     # idempotent; a no-op when up to date
#
# A stamp of its own (not dev/testbed/provision.sh's), so that other checkouts'
# test beds are not provisioned again because of it. Needs root and the Debian
# mirror and PyPI, like the test bed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=dev/testbed/common.sh
. "$REPO/dev/testbed/common.sh"

"$REPO/dev/testbed/provision.sh"

STAMP="$TESTBED_ROOT/etc/rules_pyimage-remote-exec.stamp"
WANT=$(cat "$HERE/provision.sh" "$HERE/requirements.txt" | sha256sum | cut -d' ' -f1)
VENV="$TESTBED_CACHE/remote-exec/venv"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/bgd" ]; then
    exit 0
fi
[ "$(id -u)" = 0 ] || die "provisioning the remote-execution engine needs root (it installs packages into $TESTBED_ROOT); re-run with sudo"

step() { printf '\033[1m[remote-exec]\033[0m %s\n' "$*" >&2; }
testbed_mount

step "installing buildbox, postgresql and python3-venv into the test bed"
# The suite runs its own database cluster in its scratch directory; the package's
# default cluster would only take space.
mkdir -p "$TESTBED_ROOT/etc/postgresql-common"
echo 'create_main_cluster = false' >"$TESTBED_ROOT/etc/postgresql-common/createcluster.conf"
testbed_exec "export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -q buildbox postgresql python3-venv >/var/log/testbed-remote-exec-apt.log 2>&1 ||
      { apt-get update -q && apt-get install -y -q buildbox postgresql python3-venv; } >>/var/log/testbed-remote-exec-apt.log 2>&1; } ||
    { tail -n 30 /var/log/testbed-remote-exec-apt.log; exit 1; }"
for tool in buildbox-casd buildbox-worker buildbox-run-hosttools; do
    testbed_exec "command -v $tool >/dev/null" || die "$tool is not in the test bed after installing Debian's buildbox; see $TESTBED_ROOT/var/log/testbed-remote-exec-apt.log"
done
testbed_exec 'ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null' ||
    die "no initdb under $TESTBED_ROOT/usr/lib/postgresql after installing postgresql"

step "installing BuildGrid into $VENV (pinned in dev/remote_exec/requirements.txt)"
rm -rf "$VENV.partial"
mkdir -p "$(dirname "$VENV")"
cp "$HERE/requirements.txt" "$TESTBED_CACHE/remote-exec/requirements.txt"
testbed_exec "set -e
    python3 -m venv $VENV.partial
    $VENV.partial/bin/pip install -q --disable-pip-version-check --no-deps \
        -r $TESTBED_CACHE/remote-exec/requirements.txt >/var/log/testbed-remote-exec-pip.log 2>&1 ||
        { tail -n 30 /var/log/testbed-remote-exec-pip.log; exit 1; }
    $VENV.partial/bin/pip check --disable-pip-version-check >>/var/log/testbed-remote-exec-pip.log 2>&1 ||
        { echo 'the pinned requirements are not consistent:'; tail -n 10 /var/log/testbed-remote-exec-pip.log; exit 1; }"
# a venv names its own path in its scripts: build it elsewhere, then fix the paths
testbed_exec "set -e
    grep -rlF $VENV.partial $VENV.partial/bin | xargs -r sed -i 's|$VENV.partial|$VENV|g'
    rm -rf $VENV && mv $VENV.partial $VENV
    $VENV/bin/bgd --help >/dev/null"

testbed_exec 'apt-get clean'
echo "$WANT" >"$STAMP"
step "ready: $(testbed_exec "buildbox-worker --version 2>&1 | head -n1; $VENV/bin/pip show buildgrid 2>/dev/null | sed -n 's/^Version: /buildgrid /p'; ls /usr/lib/postgresql" | tr '\n' ' ')"
