"""Run several executables, in turn or at once; fail if any fails."""

load(":partition.bzl", "rlocation")

# Shell for commands run at once, each output line prefixed with a label:
# PARALLEL_START goes before them (each one `prefixed ID LABEL COMMAND... >&2 &
# labels+=(LABEL)`, IDs 0, 1, ...), PARALLEL_WAIT after them: it waits and adds
# the label of each that failed to the array `failed`.
PARALLEL_START = [
    "prefixed() { # id label command...: runs it, each output line prefixed, its status in $status_dir/id",
    "    local id=$1 label=$2 line",
    "    shift 2",
    '    { "$@" 2>&1; echo "$?" >"$status_dir/$id"; } | while IFS= read -r line || [ -n "$line" ]; do printf "[%s] %s\\n" "$label" "$line"; done',
    "}",
    "status_dir=$(mktemp -d)",
    "trap 'rm -rf \"$status_dir\"' EXIT",
    "labels=()",
]

PARALLEL_WAIT = [
    "wait",
    'for i in "${!labels[@]}"; do',
    '    [ "$(cat "$status_dir/$i" 2>/dev/null)" = 0 ] || failed+=("${labels[$i]}")',
    "done",
]

def _run_all_impl(ctx):
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    lines = [
        "#!/usr/bin/env bash",
        "# Runs every target {}; reports each failure and exits non-zero if any failed.".format(
            "at once" if ctx.attr.parallel else ("in turn, stopping at the first that fails" if ctx.attr.stop_at_failure else "in turn"),
        ),
        "set -uo pipefail",
        'export RUNFILES_DIR="${RUNFILES_DIR:-$0.runfiles}"',
        "failed=()",
    ]
    if ctx.file.require_nonempty:
        lines.append('if [ ! -s "$RUNFILES_DIR/{}" ]; then echo "error: {}" >&2; exit 1; fi'.format(
            rlocation(ctx.file.require_nonempty, ctx.workspace_name),
            ctx.attr.require_nonempty_message.replace('"', '\\"').replace("$", "\\$"),
        ))
    runfiles = ctx.runfiles(files = [ctx.file.require_nonempty] if ctx.file.require_nonempty else [])
    if ctx.attr.parallel and ctx.attr.stop_at_failure:
        fail("run_all {}: `stop_at_failure` is for targets run in turn, not with `parallel`".format(ctx.label))
    if ctx.attr.parallel:
        # At once, each line of output prefixed with the target's label; wait for all.
        lines += PARALLEL_START
    for i, target in enumerate(ctx.attr.targets):
        exe = target[DefaultInfo].files_to_run.executable
        runfiles = runfiles.merge(target[DefaultInfo].default_runfiles)
        path = rlocation(exe, ctx.workspace_name)
        if ctx.attr.parallel:
            lines.append('prefixed {i} "{label}" "$RUNFILES_DIR/{path}" "$@" >&2 & labels+=("{label}")'.format(
                i = i,
                label = target.label,
                path = path,
            ))
        elif ctx.attr.stop_at_failure:
            run = '"$RUNFILES_DIR/{}" "$@" || failed+=("{}")'.format(path, target.label)
            lines.append('if [ ${#failed[@]} -gt 0 ]; then echo "== ' + str(target.label) + ': not run, ${failed[0]} failed" >&2; else echo "== ' + str(target.label) + '" >&2; ' + run + "; fi")
        else:
            lines.append('echo "== {label}" >&2; "$RUNFILES_DIR/{path}" "$@" || failed+=("{label}")'.format(
                label = target.label,
                path = path,
            ))
        runfiles = runfiles.merge(ctx.runfiles(files = [exe]))
    if ctx.attr.parallel:
        lines += PARALLEL_WAIT
    lines.append('[ ${#failed[@]} -eq 0 ] || { printf "error: failed: %s\\n" "${failed[@]}" >&2; exit 1; }')
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

run_all = rule(
    implementation = _run_all_impl,
    doc = "Runs every executable in `targets`, in order or (with `parallel`) at once, passing the same arguments; fails if any fails, naming each that did.",
    executable = True,
    attrs = {
        "parallel": attr.bool(doc = "Run the targets at once, each output line prefixed with its target's label."),
        "require_nonempty": attr.label(allow_single_file = True, doc = "Refuse to run unless this file is non-empty."),
        "require_nonempty_message": attr.string(doc = "Error printed when `require_nonempty` is empty."),
        "stop_at_failure": attr.bool(doc = "In turn only: once a target fails, run none of the later ones (each is named as not run)."),
        "targets": attr.label_list(doc = "Executables to run.", mandatory = True, cfg = "target"),
    },
)
