"""docs/img.md (through the img.md link here) says what the add-on is.

Its MODULE.bazel example asks for the rules_img version this module depends on,
its BUILD example loads only what //:defs.bzl exports and gives py_img_layers
only attributes the rule has, and the rule's own doc example does too.
"""

import ast
import re
import sys
import unittest

DOCS, MODULE, DEFS, RULE = sys.argv[1:5]


def read(path):
    with open(path) as f:
        return f.read()


def fenced(text):
    return re.findall(r"```starlark\n(.*?)```", text, re.S)


def calls(code, name):
    """The keyword names of each `name(...)` call in Starlark `code`."""
    tree = ast.parse(code)
    return [
        [k.arg for k in node.keywords]
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name
    ]


def rule_attrs(code):
    match = re.search(r"^_ATTRS = \{(.*?)^\}", code, re.S | re.M)
    return set(re.findall(r'^    "([a-z_]+)": attr\.', match.group(1), re.M)) | {"name", "visibility", "tags", "testonly"}


def rule_doc_example(code):
    match = re.search(r'^_DOC = """(.*?)"""', code, re.S | re.M)
    return fenced(match.group(1))


class DocsTest(unittest.TestCase):
    def test_module_example_names_the_rules_img_this_module_depends_on(self):
        wanted = re.search(r'bazel_dep\(name = "rules_img", version = "([^"]+)"\)', read(MODULE)).group(1)
        blocks = [b for b in fenced(read(DOCS)) if "bazel_dep(" in b]
        self.assertTrue(blocks, "no MODULE.bazel example")
        self.assertIn('bazel_dep(name = "rules_img", version = "{}")'.format(wanted), blocks[0])
        self.assertIn('bazel_dep(name = "rules_pyimage_img"', blocks[0])

    def test_build_example_uses_what_the_add_on_defines(self):
        exported = set(re.findall(r"^([a-z_]+) = _", read(DEFS), re.M))
        self.assertEqual({"py_img_layers"}, exported)
        attrs = rule_attrs(read(RULE))
        examples = [b for b in fenced(read(DOCS)) if "py_img_layers(" in b] + rule_doc_example(read(RULE))
        self.assertEqual(2, len(examples), "the page's BUILD example and the rule's")
        for example in examples:
            loads = re.findall(r'load\("@rules_pyimage_img//:defs.bzl", (.*?)\)', example)
            self.assertEqual(1, len(loads), example)
            self.assertLessEqual(set(re.findall(r'"([a-z_]+)"', loads[0])), exported)
            used = calls(example, "py_img_layers")
            self.assertEqual(1, len(used), example)
            self.assertLessEqual(set(used[0]), attrs, "attributes py_img_layers does not have")
            # The layers given to image_manifest are the adapter's.
            self.assertRegex(example, r'layers = \[":img_layers"\]')


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
