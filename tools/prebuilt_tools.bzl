"""The pinned table of prebuilt tools: platform -> tool -> {"url", "sha256"}.

dev/release/write_prebuilt_table.py writes it into each release archive from the
release's checksum files (.github/workflows/release.yml). In the repository it
is empty, so a checkout builds the tools from source.
"""

PREBUILT_TOOLS = {}
