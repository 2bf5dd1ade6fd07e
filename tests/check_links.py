#!/usr/bin/env python3
"""Every relative link of the given Markdown files resolves: the file (or directory) exists, and
a #anchor names a heading of the target (GitHub's rule: lower case, punctuation dropped, spaces to
hyphens, -1, -2 ... for repeats). Links and images alike; code spans and fenced blocks are not
links. Prints one line per broken link (FILE:LINE: target: why) and exits 1 if there is one.
tests/t_docs.sh runs it on README.md and docs/*.md.

usage: check_links.py FILE.md ...
"""
import os
import re
import sys

LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def lines_outside_code(text):
    """(line number, line) outside fenced blocks, with inline code spans blanked."""
    fenced = False
    for n, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, re.sub(r"`[^`]*`", "``", line)


def slug(heading):
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # a link in a heading: its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        seen, out = {}, set()
        with open(path, encoding="utf-8") as f:
            text = f.read()
        fenced = False
        for line in text.splitlines():
            if FENCE.match(line):
                fenced = not fenced
                continue
            m = HEADING.match(line) if not fenced else None
            if m:
                s = slug(m.group(2))
                k = seen.get(s, 0)
                seen[s] = k + 1
                out.add(s if k == 0 else f"{s}-{k}")
        cache[path] = out
    return cache[path]


def targets(text):
    """Every link target in text, an image inside a link's text included."""
    for m in LINK.finditer(text):
        yield from targets(m.group(1))
        yield m.group(2)


def check(md):
    bad = []
    with open(md, encoding="utf-8") as f:
        text = f.read()
    for n, line in lines_outside_code(text):
        for target in targets(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):      # http:, mailto: ...
                continue
            path, _, frag = target.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
            if not os.path.exists(full):
                bad.append(f"{md}:{n}: {target}: no such file {full}")
                continue
            if frag and full.endswith(".md") and frag not in anchors(full):
                bad.append(f"{md}:{n}: {target}: no heading #{frag} in {full}")
    return bad


def main(argv):
    bad = [b for md in argv[1:] for b in check(md)]
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
