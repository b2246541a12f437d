"""TEST STAND-IN for rules_oci's oci_push rule (v2.2.6 oci/private/push.bzl). Never shipped."""

def _quote_args(args):
    return ["\"{}\"".format(arg) for arg in args]

def _has_digest_or_tag(repository):
    # util.parse_image: a digest after "@", a tag after the last ":" of the last path part.
    return "@" in repository or ":" in repository.rpartition("/")[2]

def _impl(ctx):
    if ctx.attr.repository and ctx.attr.repository_file:
        fail("must specify exactly one of 'repository_file' or 'repository'")
    if not ctx.file.image.is_directory:
        fail("image attribute must be a oci_image or oci_image_index")
    if _has_digest_or_tag(ctx.attr.repository):
        fail("`repository` attribute should not contain digest or tag. got: {}".format(ctx.attr.repository))
    substitutions = {
        "{{fixed_args}}": "",
        "{{image_dir}}": ctx.file.image.short_path,
        "{{repository_file}}": "",
        "{{tags}}": "",
    }
    files = [ctx.file.image]
    if ctx.attr.repository:
        substitutions["{{fixed_args}}"] = " ".join(_quote_args(["--repository", ctx.attr.repository]))
    elif ctx.attr.repository_file:
        files.append(ctx.file.repository_file)
        substitutions["{{repository_file}}"] = ctx.file.repository_file.short_path
    else:
        fail("must specify exactly one of 'repository_file' or 'repository'")
    if ctx.attr.remote_tags:
        files.append(ctx.file.remote_tags)
        substitutions["{{tags}}"] = ctx.file.remote_tags.short_path
    executable = ctx.actions.declare_file("push_%s.sh" % ctx.label.name)
    ctx.actions.expand_template(
        template = ctx.file._push_sh_tpl,
        output = executable,
        is_executable = True,
        substitutions = substitutions,
    )
    runfiles = ctx.runfiles(files = files).merge(ctx.attr.image[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = executable, runfiles = runfiles)]

oci_push = rule(
    implementation = _impl,
    executable = True,
    attrs = {
        "image": attr.label(allow_single_file = True, mandatory = True, doc = "oci_image or oci_image_index to push."),
        "remote_tags": attr.label(allow_single_file = True, doc = "File of tags, one per line."),
        "repository": attr.string(doc = "Repository URL without tag or digest."),
        "repository_file": attr.label(allow_single_file = True, doc = "File holding the repository."),
        "_push_sh_tpl": attr.label(default = "push.sh.tpl", allow_single_file = True),
    },
    doc = "TEST STAND-IN for rules_oci's oci_push (pushes with crane).",
)
