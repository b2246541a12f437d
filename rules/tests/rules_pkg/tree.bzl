"""A directory output (tree artifact), as a pkg_files source."""

def _tree_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    ctx.actions.run_shell(
        outputs = [out],
        command = "mkdir -p {o}/sub && printf 'x\\n' > {o}/top.txt && printf 'y\\n' > {o}/sub/deep.txt && ln -s top.txt {o}/alias.txt".format(o = out.path),
        mnemonic = "TestTree",
    )
    return [DefaultInfo(files = depset([out]))]

tree = rule(implementation = _tree_impl)
