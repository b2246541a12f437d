"""Run several executables in turn; fail if any fails."""

load(":partition.bzl", "rlocation")

def _run_all_impl(ctx):
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    lines = [
        "#!/usr/bin/env bash",
        "# Runs every target in turn; reports each failure and exits non-zero if any failed.",
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
    for target in ctx.attr.targets:
        exe = target[DefaultInfo].files_to_run.executable
        runfiles = runfiles.merge(target[DefaultInfo].default_runfiles)
        lines.append('echo "== {label}" >&2; "$RUNFILES_DIR/{path}" "$@" || failed+=("{label}")'.format(
            label = target.label,
            path = rlocation(exe, ctx.workspace_name),
        ))
        runfiles = runfiles.merge(ctx.runfiles(files = [exe]))
    lines.append('[ ${#failed[@]} -eq 0 ] || { printf "error: failed: %s\\n" "${failed[@]}" >&2; exit 1; }')
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

run_all = rule(
    implementation = _run_all_impl,
    doc = "Runs every executable in `targets` in order, passing the same arguments; fails if any fails.",
    executable = True,
    attrs = {
        "require_nonempty": attr.label(allow_single_file = True, doc = "Refuse to run unless this file is non-empty."),
        "require_nonempty_message": attr.string(doc = "Error printed when `require_nonempty` is empty."),
        "targets": attr.label_list(doc = "Executables to run.", mandatory = True, cfg = "target"),
    },
)
