"""The pytorch example's layer groups, also used by bench/torch."""

# Heavy wheels in layers of their own, least often changed first: the NVIDIA
# libraries, then torch; the small pure-Python dependencies go to `deps`.
GROUPS = {
    "nvidia": [
        "@pypi_torch//nvidia_*",
        "@pypi_torch//cuda_*",
    ],
    "torch": [
        "@pypi_torch//torch",
        "@pypi_torch//torchvision",
        "@pypi_torch//triton",
    ],
}
