"""A file holding the version tag of an image, from --define or stamping."""

_DOC = """Writes the version tag for `push_<registry>_tag` targets.

The version comes from, in order:
1. `--define=VERSION=v1.2.3` on the command line;
2. the workspace status key `status_key` (default `STABLE_VERSION`), set by a
   `--workspace_status_command` script that prints e.g. `STABLE_VERSION v1.2.3`.
Without either, the file is empty and the push target that reads it refuses to
run, with a message that says how to set the version; `bazel build //...` works.
"""

def _version_tag_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    version = ctx.var.get(ctx.attr.define, "")
    if version:
        ctx.actions.write(out, version + "\n")
        return [DefaultInfo(files = depset([out]))]
    ctx.actions.run_shell(
        command = """
set -eu
v=$(awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$1")
if [ -n "$v" ]; then printf '%s\\n' "$v" > "$3"; else : > "$3"; fi
""",
        arguments = [ctx.info_file.path, ctx.attr.status_key, out.path],
        inputs = [ctx.info_file],
        outputs = [out],
        mnemonic = "PyImageVersionTag",
        progress_message = "Reading the version tag for %{label}",
    )
    return [DefaultInfo(files = depset([out]))]

version_tag = rule(
    implementation = _version_tag_impl,
    doc = _DOC,
    attrs = {
        "define": attr.string(default = "VERSION", doc = "Name of the `--define` that sets the version."),
        "status_key": attr.string(default = "STABLE_VERSION", doc = "Workspace status key that holds the version."),
    },
)
