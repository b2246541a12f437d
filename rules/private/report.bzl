"""image_report: `bazel run` prints an image's summary and where its HTML report is."""

load("@bazel_skylib//lib:shell.bzl", "shell")
load(":layers.bzl", "PyImageLayersInfo")

_RUNNER = """#!/usr/bin/env bash
# Prints the image report's summary, which layers changed since this was last run
# for this image, and where the HTML page is.
set -euo pipefail
summary={summary}
digests={digests}
html={html}
state_dir="${{XDG_CACHE_HOME:-$HOME/.cache}}/rules_pyimage/reports"
state="$state_dir/{state_name}.digests"
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
    report = ctx.attr.layers[PyImageLayersInfo].report
    runner = ctx.actions.declare_file(ctx.label.name + ".sh")
    label = str(ctx.label).removeprefix("@@")
    ctx.actions.write(
        runner,
        _RUNNER.format(
            summary = shell.quote(report.summary.short_path),
            digests = shell.quote(report.digests.short_path),
            html = shell.quote(report.html.short_path),
            sbom = shell.quote(report.sbom.short_path),
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
        "layers": attr.label(
            doc = "The image's py_image_layers target.",
            mandatory = True,
            providers = [PyImageLayersInfo],
        ),
    },
    executable = True,
)
