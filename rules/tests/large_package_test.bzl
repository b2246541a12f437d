"""Analysis test: the deps layer's action asks layer-splitter to warn about each repository over `large_package_mb`, with the groups entry that gives it a layer."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _large_package_test_impl(ctx):
    env = analysistest.begin(ctx)
    layers = [a for a in analysistest.target_actions(env) if a.mnemonic == "PyImageLayer"]
    argvs = {a.argv[a.argv.index("--name") + 1]: a.argv for a in layers}
    asserts.true(env, "deps" in argvs, "no deps layer action: {}".format(argvs.keys()))
    for name, argv in argvs.items():
        if name != "deps":
            asserts.false(env, "--large-package-bytes" in argv, "layer {} asks for the warning too".format(name))
    argv = argvs.get("deps", [])
    asserts.true(env, "--large-package-bytes" in argv, "no --large-package-bytes: {}".format(argv))
    if "--large-package-bytes" in argv:
        asserts.equals(env, str(ctx.attr.threshold_mb * 1000 * 1000), argv[argv.index("--large-package-bytes") + 1])
    packages = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--package"]
    for distribution in ctx.attr.distributions:
        found = [p for p in packages if ('="%s": ["@' % distribution) in p]
        asserts.equals(env, 1, len(found), "one --package for {} in {}".format(distribution, packages))
        for p in found:
            directory, _, hint = p.partition("=")
            repo = directory.rpartition("/")[2]
            asserts.true(env, directory.startswith("/app/external/"), directory)
            asserts.equals(env, '"{}": ["@{}"]'.format(distribution, repo.rpartition("~")[2].rpartition("+")[2]), hint)
    return analysistest.end(env)

large_package_test = analysistest.make(
    _large_package_test_impl,
    attrs = {
        "distributions": attr.string_list(doc = "Distributions of the deps layer that must each have a --package."),
        "threshold_mb": attr.int(),
    },
)
