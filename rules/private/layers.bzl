"""py_image_layers: a py_binary's runfiles as python, deps and app layer tars."""

load(":base.bzl", "check_base")
load(":layer_action.bzl", "COMMON_ATTRS", "TOOLS_TOOLCHAIN", "layer_action", "layer_options")
load(":oci_files.bzl", "list_file_content")
load(":partition.bzl", "assign_repos", "distribution_of", "parse_repo_pattern", "repo_of", "rlocation")
load(":platform.bzl", "PLATFORM_ATTRS")
load(":transition.bzl", "TRANSITION_ATTRS", "platform_transition")

PyImageLayersInfo = provider(
    doc = "The layers of a py_image_layers target and where the binary lands in the image.",
    fields = {
        "layers": "list of struct(name, blob, descriptor, report) in image order",
        "entrypoint": "File: the command that runs the binary in the image, one element per line (rules_oci 2.x's format)",
        "launcher": "string: the binary's path in the image",
        "runfiles_dir": "string: the binary's runfiles directory in the image",
    },
)

_PY_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

_DOC = """Partitions a `py_binary`'s runfiles into image layers, one tar per layer.

Files are assigned by the repository that owns them, never by path patterns:

* `python`: the repository of the Python toolchain's interpreter (hermetic
  toolchains put the whole runtime there);
* one layer per entry of `groups`, in the order given;
* `deps`: every other external repository (pip packages, runfiles libraries);
  with `split_deps = True`, one layer per repository instead;
* `app`: the main repository, generated files, the launcher and `_repo_mapping`.

Each layer is written by its own action whose inputs are only that layer's
files, so editing application code re-runs only the `app` action and a remote
cache serves the rest. The tars are the target's default outputs, in image
order, ready for `oci_image(tars = [...])` (rules_oci) or rules_img.

```starlark
load("@rules_pyimage//rules:defs.bzl", "py_image_layers")

py_image_layers(
    name = "layers",
    binary = ":app",
    groups = {"torch": ["@pypi//torch", "@pypi//nvidia_*", "@pypi//triton"]},
)

filegroup(
    name = "entrypoint",
    srcs = [":layers"],
    output_group = "entrypoint",
)

oci_image(
    name = "image",
    base = "@debian_slim",
    tars = [":layers"],
    entrypoint = ":entrypoint",
)
```

Output groups: `descriptors` (per-layer JSON with digest, size and diff_id),
`report` (a size report), `entrypoint` (the command file for `oci_image`).
"""

_ATTRS = {
    "base": attr.label(
        doc = "Optional base image (an OCI image layout). When given, a validation action checks that its architecture matches `platform`.",
        allow_single_file = True,
    ),
    "binary": attr.label(
        doc = "The executable to put in the image: a `py_binary` or any executable with runfiles.",
        mandatory = True,
    ),
    "excludes": attr.string_list(
        doc = """Globs of in-image paths (without the leading `/`) to leave out of every
        layer, with everything below them, e.g.
        `["**/site-packages/*/tests", "**/site-packages/scipy/**/*.pyx"]`. Applied with
        or without `strip`; what each removed is in the `report` output group.""",
    ),
    "group_targets": attr.label_keyed_string_dict(
        doc = "Targets (e.g. `@pypi//torch`) mapped to a group name; their repositories go to that group's layer.",
    ),
    "groups": attr.string_list_dict(
        doc = """Group name -> repository patterns; each group becomes its own layer,
        placed after `python` and before `deps`, in the order given. A pattern is
        `@hub//package` (a pip package of the hub; `*` wildcards allowed, e.g.
        `@pypi//nvidia_*`) or `@repo` (a repository by name, wildcards allowed).
        A package is matched by the distribution its repository's files declare
        (`<name>-<version>.dist-info`), whatever rules_python names the
        repository; `py_image` resolves the hub as your repository sees it
        (`@@<canonical name>//package`, which this attribute also accepts).
        Groups take precedence over the python/deps/app split.""",
    ),
    "includes": attr.string_list(
        doc = "Globs of in-image paths to keep whatever `strip` and `excludes` say, e.g. `[\"**/site-packages/numpy/testing/**\"]`.",
    ),
    "root": attr.string(
        doc = "Directory in the image that holds the binary and its runfiles.",
        default = "/app",
    ),
    "split_deps": attr.bool(
        doc = "One layer per external repository instead of a single `deps` layer: `deps_<distribution>` for a wheel's repository (from its `.dist-info`), `deps_<repository>` for any other.",
        default = False,
    ),
    "strip": attr.bool(
        doc = "Drop what a runtime never needs (tests, caches, headers, RECORD files) from the python and deps layers.",
        default = True,
    ),
    "strip_debug": attr.bool(
        doc = "Also remove ELF debug sections from shared objects and executables in the python and deps layers.",
        default = False,
    ),
}

# Manifest kinds of runfiles (see tools/README.md): `file` copies content,
# `tree` a directory artifact, `link` stores a symlink artifact's own text
# (ctx.actions.declare_symlink, as rules_python's venvs make), and `output` lets
# the tool tell the last two apart where Bazel (7) does not say which it is.
_KINDS = ["file", "tree", "link", "output"]

def _kind(f):
    if f.is_directory:
        return "tree"
    is_symlink = getattr(f, "is_symlink", None)  # Bazel >= 8
    if is_symlink != None:
        return "link" if is_symlink else "file"
    return "file" if f.is_source else "output"

def _main_and_external(files):
    main, external = [], []
    for f in files:
        (external if f.short_path.startswith("../") else main).append(f)
    return main, external

def _main_entry(f):
    return f.short_path + "\t" + f.path

def _external_entry(f):
    return f.short_path[3:] + "\t" + f.path

def _escape(s):
    return s.replace("%", "%%")

def _empty_file(path, workspace_name, layer_of):
    """(runfiles-relative path, layer) of an entry of runfiles.empty_filenames.

    They are relative to the main repository's runfiles directory; `../<repo>/...`
    (and, with legacy external runfiles, `external/<repo>/...`) belong to <repo>.
    """
    for prefix in ["../", "external/"]:
        if path.startswith(prefix):
            rest = path[len(prefix):]
            return rest, layer_of.get(rest.split("/")[0], "app")
    return workspace_name + "/" + path, "app"

def _write_manifest(ctx, layer, content, runfiles_dir, workspace_name):
    """Writes a layer-splitter manifest lazily; big lists never become strings here."""
    args = ctx.actions.args()
    args.set_param_file_format("multiline")
    for kind in _KINDS:
        main, external = _main_and_external(content.by_kind[kind])
        args.add_all(main, map_each = _main_entry, format_each = _escape("{}\t{}/{}/".format(kind, runfiles_dir, workspace_name)) + "%s")
        args.add_all(external, map_each = _external_entry, format_each = _escape("{}\t{}/".format(kind, runfiles_dir)) + "%s")
    args.add_all(content.lines)
    manifest = ctx.actions.declare_file("{}/{}.manifest".format(ctx.label.name, layer))
    ctx.actions.write(manifest, args)
    return manifest

_PICK_ENTRYPOINT = """
set -eu
launcher=$1 with_interpreter=$2 launcher_only=$3 out=$4
first=$(head -c 256 "$launcher" | head -n 1)
case "$first" in
'#!'*python*) cp "$with_interpreter" "$out" ;;
*) cp "$launcher_only" "$out" ;;
esac
"""

def _entrypoint(ctx, executable, launcher, interpreter):
    """The entrypoint file: `[interpreter, launcher]` or `[launcher]`.

    A launcher that is a Python script (Bazel's and rules_python's default
    bootstrap, `#!/usr/bin/env python3`) runs under the image's interpreter when
    the toolchain brings one, so the base needs no Python. Any other launcher
    (rules_python's `bootstrap_impl=script` shell script, a native binary) runs
    as it is: it finds the interpreter itself. Only the launcher's first line
    tells which, so an action reads it.
    """
    out = ctx.actions.declare_file(ctx.label.name + ".entrypoint")
    if not interpreter:
        ctx.actions.write(out, list_file_content([launcher]))
        return out
    with_interpreter = ctx.actions.declare_file(ctx.label.name + ".entrypoint.interpreter")
    ctx.actions.write(with_interpreter, list_file_content([interpreter, launcher]))
    launcher_only = ctx.actions.declare_file(ctx.label.name + ".entrypoint.launcher")
    ctx.actions.write(launcher_only, list_file_content([launcher]))
    ctx.actions.run_shell(
        command = _PICK_ENTRYPOINT,
        arguments = [executable.path, with_interpreter.path, launcher_only.path, out.path],
        inputs = [executable, with_interpreter, launcher_only],
        outputs = [out],
        mnemonic = "PyImageEntrypoint",
        progress_message = "Choosing the entrypoint of %{label}",
    )
    return out

def _group_repos(ctx):
    """Repositories of the targets in `group_targets`, by group."""
    by_group = {}
    for target, group in ctx.attr.group_targets.items():
        repos = by_group.setdefault(group, [])
        repos.append(target.label.workspace_name)

        # An alias (`@pypi//torch`) resolves to the package's own repository;
        # its files say which one even where the label does not.
        for f in target[DefaultInfo].files.to_list()[:1]:
            repos.append(repo_of(f))
    return by_group

def _py_image_layers_impl(ctx):
    binary = ctx.attr.binary
    default_info = binary[DefaultInfo]
    executable = default_info.files_to_run.executable
    if executable == None:
        fail("binary: {} is not executable; give a py_binary (or any executable rule) as `binary`".format(binary.label))
    runfiles = default_info.default_runfiles

    tools = ctx.toolchains[TOOLS_TOOLCHAIN].pyimage
    workspace_name = ctx.workspace_name

    # Where the binary lands in the image.
    root = "/" + ctx.attr.root.strip("/") if ctx.attr.root.strip("/") else ""
    launcher = "{}/{}".format(root, rlocation(executable, workspace_name) if executable.short_path.startswith("../") else executable.short_path)
    runfiles_dir = launcher + ".runfiles"

    python_repos = []
    interpreter = None
    py_toolchain = ctx.toolchains[_PY_TOOLCHAIN]
    if py_toolchain and getattr(py_toolchain, "py3_runtime", None) and py_toolchain.py3_runtime.interpreter:
        interpreter = py_toolchain.py3_runtime.interpreter
        python_repos.append(repo_of(interpreter))

    # Partition the runfiles by owner repository. This walks the runfiles once
    # at analysis time: each layer action must list exactly its own inputs.
    files_by_repo = {}
    in_runfiles = {}
    distributions = {}
    for f in runfiles.files.to_list():
        repo = repo_of(f)
        files_by_repo.setdefault(repo, []).append(f)
        in_runfiles[f] = True
        if repo and ".dist-info/" in f.short_path:
            distributions.setdefault(repo, {})[distribution_of(f.short_path)] = True
    for group in list(ctx.attr.groups.keys()) + list(ctx.attr.group_targets.values()):
        if group in ["python", "deps", "app"] or group.startswith("deps_"):
            fail("groups: '{}' is the name of a built-in layer; give the group another name (e.g. '{}_libs')".format(group, group))
    patterns = {}
    for group, group_patterns in ctx.attr.groups.items():
        parsed = []
        for p in group_patterns:
            m = parse_repo_pattern(p)
            if m == None:
                fail("groups: pattern '{}' of group '{}' is not of the form '@hub//package' or '@repo' (wildcards allowed)".format(p, group))
            parsed.append(m)
        patterns[group] = parsed
    assignment = assign_repos(
        files_by_repo.keys(),
        python_repos,
        patterns,
        _group_repos(ctx),
        {repo: names.keys() for repo, names in distributions.items()},
    )
    if assignment.errors:
        fail("\n".join(assignment.errors))
    layer_of = assignment.layer_of

    # Layer order: least to most frequently changed.
    order = ["python"] + [g for g in ctx.attr.groups] + [g for g in ctx.attr.group_targets.values() if g not in ctx.attr.groups]
    if ctx.attr.split_deps:
        # A wheel's repository is named after the distribution it declares
        # (`deps_six`), not after the repository: rules_python 2.x puts wheel tags
        # and a hash in that name (pypi_314_six_py2_none_any_8abb2f1d), which
        # would change the layer's name with every lock update.
        split_repos = [repo for repo in sorted(files_by_repo.keys()) if layer_of[repo] == "deps"]
        only = {repo: distributions[repo].keys()[0] for repo in split_repos if len(distributions.get(repo, {})) == 1}
        repos_of = {}
        for repo, name in only.items():
            repos_of.setdefault(name, []).append(repo)
        for repo in split_repos:
            if repo in only and len(repos_of[only[repo]]) == 1:
                layer_of[repo] = "deps_" + only[repo]
            else:
                layer_of[repo] = "deps_" + repo.replace("~", "_").replace("+", "_")
            order.append(layer_of[repo])
    else:
        order.append("deps")
    order.append("app")
    order = [name for i, name in enumerate(order) if name not in order[:i]]

    contents = {name: struct(by_kind = {kind: [] for kind in _KINDS}, lines = []) for name in order}
    for repo, files in files_by_repo.items():
        by_kind = contents[layer_of[repo]].by_kind
        for f in files:
            by_kind[_kind(f)].append(f)
    app = contents["app"]
    app.lines.append("file\t{}\t{}".format(launcher, executable.path))
    app_inputs = [executable]

    # Bazel's runfiles tree always has the main repository's directory, even
    # when it holds no file: launchers reach other repositories' files through
    # it (`_main/../<repo>/...`, a binary whose main file is external).
    app.lines.append("dir\t{}/{}".format(runfiles_dir, workspace_name))
    repo_mapping = getattr(default_info.files_to_run, "repo_mapping_manifest", None)
    if repo_mapping:
        app.lines.append("file\t{}/_repo_mapping\t{}".format(runfiles_dir, repo_mapping.path))
        app_inputs.append(repo_mapping)
    for path in runfiles.empty_filenames.to_list():
        rel, layer = _empty_file(path, workspace_name, layer_of)
        contents[layer].lines.append("empty\t{}/{}".format(runfiles_dir, rel))
    symlinks = [(workspace_name + "/" + e.path, e.target_file) for e in runfiles.symlinks.to_list()]
    symlinks += [(e.path, e.target_file) for e in runfiles.root_symlinks.to_list()]
    for path, target in symlinks:
        if target in in_runfiles:
            # The target is in the image under its own path: link to it.
            app.lines.append("symlink\t{}/{}\t{}/{}".format(runfiles_dir, path, runfiles_dir, rlocation(target, workspace_name)))
        else:
            app.lines.append("{}\t{}/{}\t{}".format(_kind(target), runfiles_dir, path, target.path))
            app_inputs.append(target)

    options = layer_options(
        ctx.attr,
        strip = ctx.attr.strip,
        strip_debug = ctx.attr.strip_debug,
        excludes = ctx.attr.excludes,
        includes = ctx.attr.includes,
    )
    layers = []
    for name in order:
        content = contents[name]
        files = [f for kind in _KINDS for f in content.by_kind[kind]]
        if not files and not content.lines:
            continue
        manifest = _write_manifest(ctx, name, content, runfiles_dir, workspace_name)
        inputs = depset(files + (app_inputs if name == "app" else []))
        profile = "python" if name == "python" else ("none" if name == "app" else "site-packages")
        layers.append(layer_action(ctx, tools, name, manifest, inputs, options, profile))

    entrypoint_file = _entrypoint(ctx, executable, launcher, runfiles_dir + "/" + rlocation(interpreter, workspace_name) if interpreter else None)

    report = ctx.actions.declare_file(ctx.label.name + ".report.txt")
    report_args = ctx.actions.args()
    report_args.add(report)
    report_args.add_all([layer.report for layer in layers])
    ctx.actions.run_shell(
        command = 'out=$1; shift; for r in "$@"; do cat "$r"; echo; done > "$out"',
        arguments = [report_args],
        inputs = [layer.report for layer in layers],
        outputs = [report],
        mnemonic = "PyImageReport",
        progress_message = "Summarising layer sizes of %{label}",
    )

    blobs = [layer.blob for layer in layers]
    return [
        DefaultInfo(files = depset(blobs)),
        OutputGroupInfo(
            descriptors = depset([layer.descriptor for layer in layers]),
            entrypoint = depset([entrypoint_file]),
            report = depset([report]),
            _validation = depset(check_base(ctx, tools, ctx.file.base) if ctx.file.base else []),
        ),
        PyImageLayersInfo(
            layers = layers,
            entrypoint = entrypoint_file,
            launcher = launcher,
            runfiles_dir = runfiles_dir,
        ),
    ]

py_image_layers = rule(
    implementation = _py_image_layers_impl,
    doc = _DOC,
    attrs = dict(_ATTRS, **dict(COMMON_ATTRS, **dict(PLATFORM_ATTRS, **TRANSITION_ATTRS))),
    # The whole rule moves to the image's platform, so the Python toolchain it
    # resolves is the one the binary was built with.
    cfg = platform_transition,
    toolchains = [
        config_common.toolchain_type(_PY_TOOLCHAIN, mandatory = False),
        config_common.toolchain_type(TOOLS_TOOLCHAIN, mandatory = True),
    ],
)
