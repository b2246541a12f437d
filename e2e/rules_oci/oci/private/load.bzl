"""TEST STAND-IN for rules_oci's oci_load rule. Never shipped."""

def _rlocation(ctx, f):
    return f.short_path[3:] if f.short_path.startswith("../") else ctx.workspace_name + "/" + f.short_path

def _impl(ctx):
    if ctx.attr.format != "docker":
        fail("the rules_oci test stand-in only implements format = \"docker\"")
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    loader = ctx.executable.loader
    ctx.actions.expand_template(
        template = ctx.file._tpl,
        output = script,
        is_executable = True,
        substitutions = {
            "{{image}}": _rlocation(ctx, ctx.file.image),
            "{{tags_file}}": _rlocation(ctx, ctx.file.repo_tags),
            "{{loader}}": _rlocation(ctx, loader) if loader else "",
        },
    )
    tarball = ctx.actions.declare_file(ctx.label.name + "/tarball.tar")
    ctx.actions.run_shell(
        command = 'skopeo copy -q "oci:$1" "docker-archive:$2:$(head -n1 "$3")"',
        arguments = [ctx.file.image.path, tarball.path, ctx.file.repo_tags.path],
        inputs = [ctx.file.image, ctx.file.repo_tags],
        outputs = [tarball],
        mnemonic = "OCITarball",
        progress_message = "OCI Tarball %{label}",
    )
    runfiles = ctx.runfiles(files = [ctx.file.image, ctx.file.repo_tags] + ([loader] if loader else []))
    return [
        DefaultInfo(executable = script, runfiles = runfiles),
        OutputGroupInfo(tarball = depset([tarball])),
    ]

oci_load = rule(
    implementation = _impl,
    executable = True,
    attrs = {
        "format": attr.string(default = "docker", values = ["docker", "oci"], doc = "Tarball format."),
        "image": attr.label(allow_single_file = True, mandatory = True, doc = "oci_image to load."),
        "loader": attr.label(executable = True, cfg = "target", allow_single_file = True, doc = "Loader executable (default: docker, podman or nerdctl on PATH)."),
        "repo_tags": attr.label(allow_single_file = True, mandatory = True, doc = "File of repo:tag, one per line."),
        "_tpl": attr.label(default = "load.sh.tpl", allow_single_file = True),
    },
    doc = "TEST STAND-IN for rules_oci's oci_load.",
)
