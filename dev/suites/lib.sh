# Shared by the e2e scripts that edit the checkout and push from the host;
# sourced after dev/testbed/common.sh.
# shellcheck shell=bash

# e2e_workdir DIR: makes DIR the script's scratch directory WORK. On exit, the
# files given to `keep` are restored, the registries start_registry started are
# stopped and DIR is removed.
e2e_workdir() {
    WORK=$1
    _kept=()
    _registries=()
    trap _e2e_cleanup EXIT
}

_e2e_cleanup() {
    local f dir
    for f in ${_kept[@]+"${_kept[@]}"}; do cp "$WORK/${f//\//_}" "$f"; done
    for dir in ${_registries[@]+"${_registries[@]}"}; do stop_registry "$dir"; done
    rm -rf "$WORK"
}

keep() { # file: restored when the script ends
    cp "$1" "$WORK/${1//\//_}"
    _kept+=("$1")
}

restore() { # file given to keep: back to what it was now
    cp "$WORK/${1//\//_}" "$1"
}

# start_registry DIR: serves a registry storing its blobs under DIR; sets
# REGISTRY_PORT and writes DIR/registry.pid (stop it with stop_registry DIR)
# and DIR/registry.log (the request log, to count uploads).
start_registry() {
    local dir=$1
    REGISTRY_PORT=$(free_port)
    printf 'version: 0.1\nlog: {level: info}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
        "$dir/registry" "$REGISTRY_PORT" >"$dir/registry.yml"
    testbed_exec "docker-registry serve $dir/registry.yml >$dir/registry.log 2>&1 & echo \$! > $dir/registry.pid"
    _registries+=("$dir")
    for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "FAIL: docker-registry did not answer on 127.0.0.1:$REGISTRY_PORT; its log:" >&2
    cat "$dir/registry.log" >&2
    return 1
}

stop_registry() { # DIR
    [ -f "$1/registry.pid" ] && testbed_exec "kill $(cat "$1/registry.pid")" 2>/dev/null
    return 0
}
