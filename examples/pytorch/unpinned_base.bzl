"""unpinned_base: a base image whose digest is not pinned yet; anything built on it fails, saying how to pin it."""

def _unpinned_base_impl(ctx):
    fail("//{}:{}: {}".format(ctx.label.package, ctx.label.name, ctx.attr.message))

unpinned_base = rule(
    implementation = _unpinned_base_impl,
    doc = "Stands where an `oci.pull` by digest belongs until one is recorded; fails at analysis with `message`.",
    attrs = {
        "message": attr.string(doc = "What to pull and how to get its digest.", mandatory = True),
    },
)
