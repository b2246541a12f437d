# A Remote Execution API engine on loopback inside the test bed, for the suites:
# PostgreSQL (BuildGrid's scheduler database, as the unprivileged `postgres`
# user, on a unix socket only), the BuildGrid server (CAS, action cache,
# execution and bots services; instance `main`) and one buildbox worker
# (buildbox-casd as its local CAS, buildbox-run-hosttools as its runner).
#
# The worker runs in a mount namespace of its own in which Bazel's output root,
# the shared disk cache and the directories given to start_engine are empty
# tmpfs mounts, and it executes each action in a fresh directory under the
# engine's own directory: an action that reaches for a path of the client's
# checkout or output base fails on the worker instead of working by accident.
#
# Sourced after dev/testbed/common.sh; installed by dev/remote_exec/provision.sh.
# shellcheck shell=bash

REMOTE_EXEC_VENV="$TESTBED_CACHE/remote-exec/venv"

# start_engine DIR HIDDEN_DIR...: the engine keeps everything under DIR (made
# here; the database, the CAS, the worker's cache and execution roots, the
# logs). Sets ENGINE_PORT (BuildGrid's gRPC port on 127.0.0.1). Stop it with
# stop_engine DIR, which also runs when start_engine fails half-way.
start_engine() {
    local dir=$1 pgbin hidden=
    shift
    local d
    for d in "$@"; do hidden+=" $(printf '%q' "$d")"; done
    [ -x "$REMOTE_EXEC_VENV/bin/bgd" ] ||
        { echo "FAIL: BuildGrid is not installed in $REMOTE_EXEC_VENV: run dev/remote_exec/provision.sh" >&2; return 1; }
    mkdir -p "$dir/pg" "$dir/cas" "$dir/worker/cache" "$dir/worker/exec" "$dir/logs"
    # postgres must reach its directory through the scratch directories above it
    chmod 0711 "$dir"
    local p=$dir
    while [ "$p" != / ] && [ "$p" != "$TESTBED_CACHE" ]; do
        p=$(dirname "$p")
        chmod o+x "$p" 2>/dev/null || true
    done
    pgbin=$(testbed_exec 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1')
    [ -x "$TESTBED_ROOT$pgbin/initdb" ] ||
        { echo "FAIL: no PostgreSQL in the test bed (looked for /usr/lib/postgresql/*/bin/initdb): run dev/remote_exec/provision.sh" >&2; return 1; }

    # 1. PostgreSQL: a cluster of its own, no TCP, the socket in DIR/pg/run.
    chown postgres: "$dir/pg" 2>/dev/null || testbed_exec "chown postgres: $dir/pg"
    testbed_exec "set -e
        cd /
        runuser -u postgres -- $pgbin/initdb -D $dir/pg/data --auth=trust -U postgres -E UTF8 >$dir/logs/initdb.log 2>&1
        mkdir -p $dir/pg/run && chown postgres: $dir/pg/run
        runuser -u postgres -- $pgbin/pg_ctl -D $dir/pg/data -w -t 60 -l $dir/pg/postgres.log \
            -o \"-c listen_addresses='' -c unix_socket_directories=$dir/pg/run -c fsync=off\" start >$dir/logs/pg_ctl.log 2>&1
        runuser -u postgres -- $pgbin/createdb -h $dir/pg/run -U postgres bgd" ||
        {
            echo "FAIL: PostgreSQL did not start for BuildGrid; its logs:" >&2
            cat "$dir/logs/initdb.log" "$dir/logs/pg_ctl.log" "$dir/pg/postgres.log" 2>/dev/null | tail -n 30 >&2
            stop_engine "$dir"
            return 1
        }
    echo "$pgbin" >"$dir/pg/bin"
    local db="postgresql:///bgd?host=$dir/pg/run&user=postgres"
    testbed_exec "$REMOTE_EXEC_VENV/bin/bgd migrate apply '$db'" >"$dir/logs/migrate.log" 2>&1 ||
        { echo "FAIL: bgd migrate apply could not create BuildGrid's tables; its log:" >&2; tail -n 30 "$dir/logs/migrate.log" >&2; stop_engine "$dir"; return 1; }

    # 2. BuildGrid.
    ENGINE_PORT=$(free_port)
    cat >"$dir/buildgrid.yml" <<EOF
server:
  - !channel
    address: "127.0.0.1:$ENGINE_PORT"
    insecure-mode: true
authorization:
  method: none
connections:
  - !sql-connection &sql
    connection-string: "$db"
    pool-size: 5
    max-overflow: 10
storages:
  - !disk-storage &cas
    path: $dir/cas
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
    cache-failed-actions: false
schedulers:
  - !sql-scheduler &scheduler
    sql: *sql
    storage: *cas
    action-cache: *ac
    property-set: !dynamic-property-set
      match-property-keys: [OSFamily, ISA]
    assigners:
      - !priority-age-assigner
        count: 1
        interval: 0.1
instances:
  - name: main
    services:
      - !action-cache
        cache: *ac
      - !execution
        scheduler: *scheduler
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
# Streaming Execute calls hold a thread each: room for many, so that the
# worker's UpdateBotSession calls are never refused.
thread-pool-size: 64
maximum-concurrent-rpcs: 64
EOF
    testbed_exec "$REMOTE_EXEC_VENV/bin/bgd server lint $dir/buildgrid.yml" >"$dir/logs/lint.log" 2>&1 ||
        { echo "FAIL: BuildGrid refuses $dir/buildgrid.yml:" >&2; cat "$dir/logs/lint.log" >&2; stop_engine "$dir"; return 1; }
    testbed_exec "cd $dir && exec setsid nice -n 19 $REMOTE_EXEC_VENV/bin/bgd server start -v --pid-file $dir/buildgrid.pid \
        $dir/buildgrid.yml >$dir/logs/buildgrid.log 2>&1 </dev/null & echo \$! >$dir/buildgrid.launcher.pid"
    local _
    for _ in $(seq 1 150); do
        if grep -q 'Starting BuildGrid server' "$dir/logs/buildgrid.log" 2>/dev/null &&
            python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$ENGINE_PORT" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$ENGINE_PORT" 2>/dev/null ||
        { echo "FAIL: BuildGrid did not listen on 127.0.0.1:$ENGINE_PORT; its log:" >&2; tail -n 40 "$dir/logs/buildgrid.log" >&2; stop_engine "$dir"; return 1; }

    # 3. The worker, in a mount namespace that hides the client's directories.
    testbed_exec "cd / && exec setsid unshare --mount --propagation private bash -c '
        for d in $TESTBED_CACHE/bazel $TESTBED_CACHE/disk-cache$hidden; do
            [ -d \"\$d\" ] && mount -t tmpfs -o size=1m,mode=0555 pyimage-hidden \"\$d\"
        done
        TMPDIR=$dir/worker/exec nice -n 19 buildbox-casd --cas-remote=http://127.0.0.1:$ENGINE_PORT --cas-instance=main --proxy-instance=main \
            --bind=unix:$dir/worker/casd.sock --log-level=info $dir/worker/cache >$dir/logs/casd.log 2>&1 &
        for _ in \$(seq 1 100); do [ -S $dir/worker/casd.sock ] && break; sleep 0.1; done
        export TMPDIR=$dir/worker/exec
        exec nice -n 19 buildbox-worker --instance=main --bots-remote=http://127.0.0.1:$ENGINE_PORT \
            --cas-remote=unix:$dir/worker/casd.sock --buildbox-run=/usr/bin/buildbox-run-hosttools \
            --runner-arg=--staging-mode=copy-or-link \
            --platform OSFamily=linux --platform ISA=x86-64 --concurrent-jobs=2 --max-wait-time=5 \
            pyimage-worker' >$dir/logs/worker.log 2>&1 </dev/null & echo \$! >$dir/worker.pid"
    # it checks its runner and asks BuildGrid for its capabilities first
    for _ in $(seq 1 100); do
        grep -q 'Starting buildbox-worker' "$dir/logs/worker.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 2
    testbed_exec "kill -0 \$(cat $dir/worker.pid)" 2>/dev/null ||
        { echo "FAIL: buildbox-worker exited at start; its log and casd's:" >&2; tail -n 30 "$dir/logs/worker.log" "$dir/logs/casd.log" >&2; stop_engine "$dir"; return 1; }
    echo "engine: BuildGrid on 127.0.0.1:$ENGINE_PORT (instance main), PostgreSQL on $dir/pg/run, buildbox worker executing in $dir/worker/exec"
}

# stop_engine DIR: the worker, BuildGrid and PostgreSQL that start_engine DIR
# started, each by its own process id; harmless when nothing runs.
stop_engine() {
    local dir=$1 f pid
    for f in worker.pid buildgrid.launcher.pid; do
        [ -f "$dir/$f" ] || continue
        pid=$(cat "$dir/$f")
        # setsid made each the leader of its own process group: the worker's
        # group holds casd, BuildGrid's its worker threads' children.
        testbed_exec "kill -TERM -- -$pid 2>/dev/null; for _ in \$(seq 1 50); do kill -0 $pid 2>/dev/null || exit 0; sleep 0.1; done; kill -KILL -- -$pid 2>/dev/null" || true
        rm -f "$dir/$f"
    done
    if [ -f "$dir/pg/bin" ] && [ -f "$dir/pg/data/postmaster.pid" ]; then
        testbed_exec "cd / && runuser -u postgres -- $(cat "$dir/pg/bin")/pg_ctl -D $dir/pg/data -m fast -w stop >/dev/null 2>&1" || true
    fi
    return 0
}
