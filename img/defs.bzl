"""Public API of rules_pyimage_img: py_image_layers' layers for rules_img.

```starlark
load("@rules_pyimage_img//:defs.bzl", "py_img_layers")
```
"""

load("//private:py_img_layers.bzl", _py_img_layers = "py_img_layers")

py_img_layers = _py_img_layers
