# Shared by the test bed scripts and ./bazelw; sourced, not run.
# shellcheck shell=bash

# Where the sid chroot lives, and the host directory that Bazel's output root and
# the wheel cache live in. Both are visible at the same path inside the chroot,
# so bazel-bin symlinks and paths in logs mean the same thing on both sides.
TESTBED_ROOT=${PYIMAGE_TESTBED_ROOT:-/opt/rules_pyimage/sid}
TESTBED_CACHE=${PYIMAGE_TESTBED_CACHE:-/var/cache/rules_pyimage}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

_bind_same_path() { # host directory -> same path inside the chroot
    local dir=$1
    mkdir -p "$dir" "$TESTBED_ROOT$dir"
    # Already the same directory inside (e.g. below the bound cache directory):
    # binding it again would make it a mount point that cannot be removed.
    [ "$TESTBED_ROOT$dir" -ef "$dir" ] && return 0
    # A mount of an earlier directory at this path (deleted, then cloned again)
    # shows the deleted one: replace it.
    mountpoint -q "$TESTBED_ROOT$dir" && umount -l "$TESTBED_ROOT$dir"
    mount --bind "$dir" "$TESTBED_ROOT$dir"
}

# Idempotent: the chroot root must itself be a mount point (runc inside needs
# it), then the pseudo filesystems and the directories shared with the host.
testbed_mount() {
    local r=$TESTBED_ROOT
    mountpoint -q "$r" || mount --bind "$r" "$r"
    mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
    mountpoint -q "$r/sys" || { mount --rbind /sys "$r/sys" && mount --make-rslave "$r/sys"; }
    mountpoint -q "$r/dev" || { mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev"; }
    _bind_same_path "$TESTBED_CACHE"
    local d
    for d in "$@"; do _bind_same_path "$d"; done
    cp -L /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
}

testbed_umount() {
    local r=$TESTBED_ROOT m
    # innermost first
    for m in $(awk -v r="$r" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
}

# Run a shell command as root inside the chroot with a clean environment.
# Extra environment can be passed as NAME=value words before the command.
testbed_exec() {
    local cmd=${*: -1}
    local env=("${@:1:$#-1}")
    chroot "$TESTBED_ROOT" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        ${env[@]+"${env[@]}"} /bin/bash -c "$cmd"
}

# A free TCP port on loopback, for the registries and caches the e2e scripts start.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
