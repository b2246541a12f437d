"""Files holding the version tag and the repository of a push, from --define or stamping."""

load(":layer_action.bzl", "TOOLS_TOOLCHAIN")
load(":oci_files.bzl", "list_file_content")

_DOC = """Writes the tags for `push_<registry>_tag` (and `push_<registry>`) targets.

The version comes from, in order:
1. `--define=VERSION=v1.2.3` on the command line;
2. the workspace status key `status_key` (default `STABLE_VERSION`), set by a
   `--workspace_status_command` script that prints e.g. `STABLE_VERSION v1.2.3`.
Without either, the file holds only `fixed_tags` (empty by default) and a push
target that needs a version refuses to run, with a message that says how to
set it; `bazel build //...` works.
"""

def _version_tag_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    version = ctx.var.get(ctx.attr.define, "")
    args = ctx.actions.args()
    args.add("version-tag")
    if version:
        # Checked as a tag by the tool, as a status value is.
        args.add("--define", "{}={}".format(ctx.attr.define, version))
        inputs = []
    else:
        args.add("--status", ctx.info_file)
        args.add("--key", ctx.attr.status_key)
        inputs = [ctx.info_file]
    args.add("--prefix", list_file_content(ctx.attr.fixed_tags))
    args.add("--out", out)
    ctx.actions.run(
        executable = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage.meta,
        arguments = [args],
        inputs = inputs,
        outputs = [out],
        mnemonic = "PyImageVersionTag",
        progress_message = "Reading the version tag for %{label}",
        toolchain = TOOLS_TOOLCHAIN,
    )
    return [DefaultInfo(files = depset([out]))]

version_tag = rule(
    implementation = _version_tag_impl,
    doc = _DOC,
    attrs = {
        "define": attr.string(default = "VERSION", doc = "Name of the `--define` that sets the version."),
        "fixed_tags": attr.string_list(doc = "Tags written before the version, whether or not one is set (e.g. `latest`)."),
        "status_key": attr.string(default = "STABLE_VERSION", doc = "Workspace status key that holds the version."),
    },
    toolchains = [TOOLS_TOOLCHAIN],
)

def _repository_from_define_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    repository = ctx.var.get(ctx.attr.define, "").strip()
    if repository:
        name = repository.rpartition("/")[2]
        if "@" in repository or ":" in name or "/" not in repository or " " in repository:
            fail("--define={}={}: give a repository such as registry.example.com:5000/team/app, without a tag or digest (tags come from the push target)".format(
                ctx.attr.define,
                repository,
            ))
    ctx.actions.write(out, repository + "\n" if repository else "")
    return [DefaultInfo(files = depset([out]))]

repository_from_define = rule(
    implementation = _repository_from_define_impl,
    doc = """Writes the repository given by `--define=<define>=host[:port]/path` to a file, for
    `oci_push(repository_file = ...)`; the file is empty without the define, so the
    push target that reads it can refuse to run while `bazel build //...` works.""",
    attrs = {
        "define": attr.string(mandatory = True, doc = "Name of the `--define` that holds the repository."),
    },
)
