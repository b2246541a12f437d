"""Prints where it runs from."""

print("hello from %s" % __file__)
