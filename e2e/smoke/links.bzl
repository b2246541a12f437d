"""SMOKE TEST: a target whose runfiles hold symlinks of every kind Bazel knows."""

def _runfiles_links_impl(ctx):
    real = ctx.file.src

    # An unresolved symlink artifact, as rules_python's venvs make them: Bazel
    # tracks the link text, never the target.
    declared = ctx.actions.declare_symlink(ctx.label.name + "/current")
    ctx.actions.symlink(output = declared, target_path = ctx.attr.declared_target)
    return [DefaultInfo(
        files = depset([declared]),
        runfiles = ctx.runfiles(
            files = [real, declared],
            symlinks = {ctx.attr.alias: real},
            root_symlinks = {ctx.attr.root_alias: real},
        ),
    )]

runfiles_links = rule(
    implementation = _runfiles_links_impl,
    attrs = {
        "alias": attr.string(doc = "runfiles.symlinks path (below the main repository) of `src`"),
        "declared_target": attr.string(doc = "link text of the declared symlink `<name>/current`"),
        "root_alias": attr.string(doc = "runfiles.root_symlinks path (below the runfiles root) of `src`"),
        "src": attr.label(allow_single_file = True),
    },
)
