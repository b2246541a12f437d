"""TEST STAND-IN for rules_oci's oci_load rule (v2.2.6 oci/private/load.bzl). Never shipped."""

def _rlocation(ctx, f):
    return f.short_path[3:] if f.short_path.startswith("../") else ctx.workspace_name + "/" + f.short_path

def _impl(ctx):
    image, repo_tags = ctx.file.image, ctx.file.repo_tags

    # Only built when the `tarball` output group is asked for, as in rules_oci.
    tarball = ctx.actions.declare_file("{}/tarball.tar".format(ctx.label.name))
    ctx.actions.run(
        executable = "python3",
        arguments = [ctx.file._tarball_py.path, ctx.attr.format, image.path, repo_tags.path, tarball.path],
        inputs = [ctx.file._tarball_py, image, repo_tags],
        outputs = [tarball],
        mnemonic = "OCITarball",
        progress_message = "OCI Tarball %{label}",
    )
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = ctx.file._run_template,
        output = script,
        is_executable = True,
        substitutions = {
            "{{format}}": ctx.attr.format,
            "{{image}}": _rlocation(ctx, image),
            "{{loader}}": _rlocation(ctx, ctx.file.loader) if ctx.file.loader else "",
            "{{tags}}": _rlocation(ctx, repo_tags),
            "{{tarball_py}}": _rlocation(ctx, ctx.file._tarball_py),
        },
    )
    runfiles = ctx.runfiles(files = [image, repo_tags, ctx.file._tarball_py] + ([ctx.file.loader] if ctx.file.loader else []))
    runfiles = runfiles.merge(ctx.attr.image[DefaultInfo].default_runfiles)
    return [
        DefaultInfo(executable = script, runfiles = runfiles),
        OutputGroupInfo(tarball = depset([tarball])),
    ]

oci_load = rule(
    implementation = _impl,
    executable = True,
    attrs = {
        "format": attr.string(default = "docker", values = ["docker", "oci"], doc = "`docker` for an oci_image, `oci` for an oci_image_index."),
        "image": attr.label(allow_single_file = True, mandatory = True, doc = "oci_image or oci_image_index to load."),
        "loader": attr.label(executable = True, cfg = "target", allow_single_file = True, doc = "Loader executable (default: docker or podman on PATH)."),
        "repo_tags": attr.label(allow_single_file = [".txt"], mandatory = True, doc = "File of repo:tag, one per line."),
        "_run_template": attr.label(default = "load.sh.tpl", allow_single_file = True),
        "_tarball_py": attr.label(default = "tarball.py", allow_single_file = True),
    },
    doc = "TEST STAND-IN for rules_oci's oci_load.",
)
