"""rules_pkg's file descriptions (pkg_files, pkg_mkdirs, pkg_mklink, pkg_filegroup) as layer-splitter manifest lines."""

load("@rules_pkg//pkg:providers.bzl", "PackageDirsInfo", "PackageFilegroupInfo", "PackageFilesInfo", "PackageSymlinkInfo")

# What a `srcs` entry of files_layer may provide.
PKG_PROVIDERS = [[PackageFilesInfo], [PackageDirsInfo], [PackageSymlinkInfo], [PackageFilegroupInfo]]

def is_pkg_target(target):
    """Whether `target` describes files with one of rules_pkg's providers.

    Args:
        target: a Target.

    Returns:
        bool.
    """
    for providers in PKG_PROVIDERS:
        if providers[0] in target:
            return True
    return False

def _field(value, what, origin):
    # A TAB or newline would split the manifest line.
    value = str(value)
    if "\t" in value or "\n" in value or "\r" in value:
        fail("{}: the {} {} contains a TAB, newline or carriage return, which an image path or owner cannot hold; rename it".format(origin, what, repr(value)))
    return value

def _attributes(attributes, origin, mode = True):
    """`key=value` manifest fields for rules_pkg attributes (mode, user, group, uid, gid)."""
    attributes = attributes or {}
    if type(attributes) == "string":
        attributes = json.decode(attributes)
    fields = []
    if mode and attributes.get("mode"):
        fields.append("mode=" + _field(attributes["mode"], "mode", origin))
    for key, name in [("uid", "uid"), ("gid", "gid"), ("user", "uname"), ("group", "gname")]:
        value = attributes.get(key)
        if value != None and value != "":
            fields.append(name + "=" + _field(value, key, origin))
    return fields

def _line(fields):
    return "\t".join(fields)

def _dest(dest, origin):
    return "/" + _field(dest, "destination", origin).lstrip("/")

def _files_lines(info, origin):
    lines = []
    attrs = _attributes(info.attributes, origin)
    for dest, src in info.dest_src_map.items():
        kind = "tree" if src.is_directory else "file"
        lines.append(_line([kind, _dest(dest, origin), src.path] + attrs))
    return lines

def _dirs_lines(info, origin):
    attrs = _attributes(info.attributes, origin)
    return [_line(["dir", _dest(d, origin)] + attrs) for d in info.dirs]

def _symlink_lines(info, origin):
    # A link's mode means nothing on Linux; the layer writes 0777.
    target = info.target
    if type(target) != "string":
        fail("{}: pkg_mklink targets that are labels are not supported (rules_pkg does not support them either); give the link's target as a string".format(origin))
    return [_line(["rawlink", _dest(info.destination, origin), _field(target, "link target", origin)] + _attributes(info.attributes, origin, mode = False))]

def pkg_manifest(targets):
    """Manifest lines and input files for rules_pkg targets.

    Destinations are relative to the image root; modes, owners (`uid`, `gid`,
    `user`, `group` attributes) and link targets are kept as given.

    Args:
        targets: Targets with PackageFilesInfo, PackageDirsInfo,
            PackageSymlinkInfo or PackageFilegroupInfo.

    Returns:
        struct(lines, inputs): manifest lines and a depset of the files they name.
    """
    lines = []
    inputs = []
    for target in targets:
        origin = str(target.label)
        if PackageFilegroupInfo in target:
            group = target[PackageFilegroupInfo]
            for info, info_origin in group.pkg_files:
                lines += _files_lines(info, str(info_origin))
                inputs += info.dest_src_map.values()
            for info, info_origin in group.pkg_dirs:
                lines += _dirs_lines(info, str(info_origin))
            for info, info_origin in group.pkg_symlinks:
                lines += _symlink_lines(info, str(info_origin))
            continue
        if PackageFilesInfo in target:
            info = target[PackageFilesInfo]
            lines += _files_lines(info, origin)
            inputs += info.dest_src_map.values()
        if PackageDirsInfo in target:
            lines += _dirs_lines(target[PackageDirsInfo], origin)
        if PackageSymlinkInfo in target:
            lines += _symlink_lines(target[PackageSymlinkInfo], origin)
    return struct(lines = lines, inputs = depset(inputs))
