"""The layers py_image hands to oci_image, with the image report and SBOM over them; and `<name>_report`, which prints it."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load(":layer_action.bzl", "TOOLS_TOOLCHAIN")
load(":layers.bzl", "PyImageLayersInfo")

PyImageReportInfo = provider(
    doc = "The image report's files.",
    fields = {
        "html": "File: the self-contained HTML page",
        "summary": "File: the text summary",
        "digests": "File: `NAME DIGEST` per layer",
        "sbom": "File: the SPDX 2.3 JSON",
    },
)

def _image_tars_impl(ctx):
    info = ctx.attr.layers[PyImageLayersInfo]
    extra = ctx.files.extra_layers
    report = PyImageReportInfo(
        html = ctx.actions.declare_file(ctx.label.name + ".report.html"),
        summary = ctx.actions.declare_file(ctx.label.name + ".summary.txt"),
        digests = ctx.actions.declare_file(ctx.label.name + ".digests.txt"),
        sbom = ctx.actions.declare_file(ctx.label.name + ".spdx.json"),
    )
    contents = [layer.contents for layer in info.layers]
    args = ctx.actions.args()
    args.add("report")

    # py_image names this target `<image>_tars`.
    args.add("--label", str(ctx.label).removeprefix("@@").removesuffix("_tars"))
    args.add_all(info.base_check, before_each = "--base-check")
    args.add_all(extra, before_each = "--tar")
    args.add_all(contents, before_each = "--contents")
    if info.interpreter:
        args.add("--python-version", info.interpreter.version)
        args.add("--python-source", info.interpreter.source)
    args.add("--mtime", str(info.mtime))
    for flag in ["html", "summary", "digests", "sbom"]:
        args.add("--" + flag, getattr(report, flag))
    ctx.actions.run(
        executable = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage.meta,
        arguments = [args],
        inputs = contents + extra + info.base_check,
        outputs = [report.html, report.summary, report.digests, report.sbom],
        mnemonic = "PyImageReport",
        progress_message = "Writing the image report of %{label}",
        toolchain = TOOLS_TOOLCHAIN,
    )
    return [
        # The image's layers above the base, in order: the extra layers, then these.
        DefaultInfo(files = depset(extra + [layer.blob for layer in info.layers])),
        OutputGroupInfo(
            report_html = depset([report.html]),
            sbom = depset([report.sbom]),
            # A validation action, so the warning about files in more than one
            # layer shows on every build of the image.
            _validation = depset([report.summary]),
        ),
        report,
    ]

image_tars = rule(
    implementation = _image_tars_impl,
    doc = """The layers of a py_image above its base, in order (its `extra_layers`, then its py_image_layers), as `oci_image` takes them in `tars`.

Output groups: `report_html` (the image report: one self-contained HTML page with
the layers, each layer's Python distributions and biggest files, what stripping
removed and the files that are in more than one layer) and `sbom` (an SPDX 2.3
JSON of the base by digest, each layer, the interpreter and every distribution
with its version, licence and layer). A file in more than one layer is warned
about on every build.""",
    attrs = {
        "layers": attr.label(
            doc = "The image's py_image_layers target.",
            mandatory = True,
            providers = [PyImageLayersInfo],
        ),
        "extra_layers": attr.label_list(
            doc = "Layer tars placed below those, in order.",
            allow_files = True,
        ),
    },
    toolchains = [TOOLS_TOOLCHAIN],
)

_RUNNER = """#!/usr/bin/env bash
# Prints the image report's summary, which layers changed since this was last run
# for this image, and where the HTML page is.
set -euo pipefail
summary={summary}
digests={digests}
html={html}
state_dir="${{XDG_CACHE_HOME:-$HOME/.cache}}/rules_pyimage/reports"
# One state per workspace and image: `//:image` of two workspaces are two images.
workspace_key=$(printf '%s %s' "${{BUILD_WORKSPACE_DIRECTORY:-$PWD}}" {label} | cksum | cut -d' ' -f1)
state="$state_dir/{state_name}-$workspace_key.digests"
cat "$summary"
if [ -f "$state" ]; then
    echo
    echo "since the last run of this report:"
    while read -r name digest; do
        before=$(awk -v n="$name" '$1 == n {{ print $2 }}' "$state")
        if [ "$digest" = "-" ]; then
            echo "  $name: given as a tar (not compared)"
        elif [ -z "$before" ]; then
            echo "  $name: new"
        elif [ "$before" = "$digest" ]; then
            echo "  $name: unchanged"
        else
            echo "  $name: changed"
        fi
    done <"$digests"
fi
mkdir -p "$state_dir" && cp "$digests" "$state.tmp" && mv "$state.tmp" "$state"
echo
echo "HTML report: file://$(readlink -f "$html")"
echo "SBOM (SPDX 2.3): $(readlink -f {sbom})"
"""

def _image_report_impl(ctx):
    report = ctx.attr.tars[PyImageReportInfo]
    runner = ctx.actions.declare_file(ctx.label.name + ".sh")
    label = str(ctx.label).removeprefix("@@")
    ctx.actions.write(
        runner,
        _RUNNER.format(
            summary = shell.quote(report.summary.short_path),
            digests = shell.quote(report.digests.short_path),
            html = shell.quote(report.html.short_path),
            sbom = shell.quote(report.sbom.short_path),
            label = shell.quote(label),
            state_name = "".join([c if c.isalnum() or c in "._-" else "_" for c in label.elems()]),
        ),
        is_executable = True,
    )
    files = [report.summary, report.digests, report.html, report.sbom]
    return [DefaultInfo(
        executable = runner,
        files = depset(files),
        runfiles = ctx.runfiles(files = files),
    )]

image_report = rule(
    implementation = _image_report_impl,
    doc = "`bazel run` prints the image report's summary, the layers that changed since its last run, and where the HTML page and the SBOM are.",
    attrs = {
        "tars": attr.label(
            doc = "The image's image_tars target.",
            mandatory = True,
            providers = [PyImageReportInfo],
        ),
    },
    executable = True,
)

def _sbom_referrer_impl(ctx):
    report = ctx.attr.tars[PyImageReportInfo]
    out = ctx.actions.declare_directory(ctx.label.name)
    ctx.actions.run(
        executable = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage.meta,
        arguments = ["sbom-referrer", "--image", ctx.file.image.path, "--sbom", report.sbom.path, "--out", out.path],
        inputs = [ctx.file.image, report.sbom],
        outputs = [out],
        mnemonic = "PyImageSbomReferrer",
        progress_message = "Writing the SBOM of %{label} as an artifact referring to its image",
        toolchain = TOOLS_TOOLCHAIN,
    )
    return [DefaultInfo(files = depset([out]))]

sbom_referrer = rule(
    implementation = _sbom_referrer_impl,
    doc = """An OCI layout holding an image's SBOM as an artifact that refers to the image.

One manifest: `artifactType` `application/spdx+json`, the SBOM (the `sbom` output
group of the image's `image_tars`) as its config and its one layer, and `subject`,
the image's manifest (`pyimage-meta sbom-referrer`, tools/README.md, says why the
config is not empty). `oci_push` pushes it by digest next to the image; the registry
then lists it among the image's referrers (the OCI distribution spec's referrers
API, or, where the registry lacks it, the `sha256-<hex>` tag index crane keeps).""",
    attrs = {
        "image": attr.label(
            doc = "The image: an `oci_image` (a layout of one image).",
            allow_single_file = True,
            mandatory = True,
        ),
        "tars": attr.label(
            doc = "The image's image_tars target, whose SBOM this is.",
            mandatory = True,
            providers = [PyImageReportInfo],
        ),
    },
    toolchains = [TOOLS_TOOLCHAIN],
)
