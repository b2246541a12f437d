"""The text formats of the files rules_oci 2.x reads for list-valued attributes.

`oci_image(entrypoint, cmd)`: one element per line, a newline inside an
element written `%5Cn` (rules_oci v2.2.6 oci/defs.bzl `_write_nl_seperated_file`;
read back in oci/private/image.sh, `--entrypoint=` / `--cmd=`: split on "\\n",
empty lines dropped, `%5Cn` turned back into "\\n"). rules_oci 1.x used commas.

`oci_push(remote_tags)`, `oci_load(repo_tags)`: one tag per line
(oci/private/push.sh.tpl: `xargs -n1 crane tag`); version.bzl writes them.
"""

def list_file_content(elements):
    """The content of a list file for rules_oci 2.x (entrypoint, cmd, tags).

    Args:
        elements: list of strings, e.g. `["/app/bin/python3", "/app/main"]`.

    Returns:
        The file's text: each element on its own line.
    """
    return "".join([e.replace("\n", "%5Cn") + "\n" for e in elements])
