"""Prints where it runs from; imports a pip package to exercise the deps layer."""

import sys

import six

print("hello from %s with six %s on python %d.%d" % (__file__, six.__version__, *sys.version_info[:2]))
