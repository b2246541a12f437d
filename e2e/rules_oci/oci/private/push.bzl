"""TEST STAND-IN for rules_oci's oci_push rule. Never shipped."""

def _rlocation(ctx, f):
    return f.short_path[3:] if f.short_path.startswith("../") else ctx.workspace_name + "/" + f.short_path

def _impl(ctx):
    if bool(ctx.attr.repository) == bool(ctx.file.repository_file):
        fail("exactly one of 'repository' or 'repository_file' must be set")
    if "@" in ctx.attr.repository or ":" in ctx.attr.repository.rpartition("/")[2]:
        fail("repository '{}' must not contain a tag or digest; use remote_tags".format(ctx.attr.repository))
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = ctx.file._tpl,
        output = script,
        is_executable = True,
        substitutions = {
            "{{image}}": _rlocation(ctx, ctx.file.image),
            "{{repository}}": ctx.attr.repository,
            "{{repository_file}}": _rlocation(ctx, ctx.file.repository_file) if ctx.file.repository_file else "",
            "{{tags_file}}": _rlocation(ctx, ctx.file.remote_tags) if ctx.file.remote_tags else "",
        },
    )
    files = [ctx.file.image] + [f for f in [ctx.file.repository_file, ctx.file.remote_tags] if f]
    return [DefaultInfo(executable = script, runfiles = ctx.runfiles(files = files))]

oci_push = rule(
    implementation = _impl,
    executable = True,
    attrs = {
        "image": attr.label(allow_single_file = True, mandatory = True, doc = "oci_image or oci_image_index to push."),
        "remote_tags": attr.label(allow_single_file = True, doc = "File of tags, one per line."),
        "repository": attr.string(doc = "Repository URL without tag or digest."),
        "repository_file": attr.label(allow_single_file = True, doc = "File holding the repository."),
        "_tpl": attr.label(default = "push.sh.tpl", allow_single_file = True),
    },
    doc = "TEST STAND-IN for rules_oci's oci_push (pushes with crane).",
)
