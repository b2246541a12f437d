"""The binary whose layers the rules_img adapter hands on."""

print("hello from rules_img layers")
