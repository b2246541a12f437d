"""Public API of rules_pyimage.

```starlark
load("@rules_pyimage//rules:defs.bzl", "files_layer", "py_image", "py_image_index", "py_image_layers", "py_shared_layers")
```
"""

load("//rules/private:files_layer.bzl", _files_layer = "files_layer")
load("//rules/private:image.bzl", _py_image = "py_image", _py_image_index = "py_image_index")
load("//rules/private:layers.bzl", _PyImageLayersInfo = "PyImageLayersInfo", _PyImageSharedLayersInfo = "PyImageSharedLayersInfo", _py_image_layers = "py_image_layers", _py_shared_layers = "py_shared_layers")
load("//rules/private:toolchain.bzl", _PyImageToolsInfo = "PyImageToolsInfo", _pyimage_toolchain = "pyimage_toolchain")

files_layer = _files_layer
py_image = _py_image
py_image_index = _py_image_index
py_image_layers = _py_image_layers
py_shared_layers = _py_shared_layers
pyimage_toolchain = _pyimage_toolchain
PyImageLayersInfo = _PyImageLayersInfo
PyImageSharedLayersInfo = _PyImageSharedLayersInfo
PyImageToolsInfo = _PyImageToolsInfo
