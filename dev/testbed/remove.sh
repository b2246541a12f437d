#!/usr/bin/env bash
# Remove the offline test bed: stop its Bazel servers, unmount everything bound
# into the chroot, delete the chroot and the cache (output bases, disk cache,
# base root file systems, buildifier). The next ./bazelw provisions afresh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=dev/testbed/common.sh
. "$HERE/common.sh"
[ "$(id -u)" = 0 ] || die "removing the test bed needs root; re-run with sudo"
# Bazel servers started by ./bazelw run inside the chroot; stop them first so
# nothing holds the mounts.
for pid in $(pgrep -f 'A-server.jar' || true); do
    [ "$(readlink -f "/proc/$pid/root")" = "$(readlink -f "$TESTBED_ROOT")" ] && kill "$pid" 2>/dev/null || true
done
sleep 1
testbed_umount
if grep -q " $TESTBED_ROOT" /proc/mounts; then
    die "something under $TESTBED_ROOT is still mounted; see /proc/mounts"
fi
rm -rf "$TESTBED_ROOT" "$TESTBED_CACHE"
echo "removed $TESTBED_ROOT and $TESTBED_CACHE"
