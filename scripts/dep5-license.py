#!/usr/bin/env python3
"""Which licence a Debian machine-readable copyright file (DEP-5) gives each path.

Usage: dep5-license.py COPYRIGHT PATH...
Prints, per PATH, "PATH<TAB>LICENCE<TAB>LINE<TAB>COPYRIGHT" where LICENCE is the first line of
the License field of the last "Files:" paragraph whose patterns match PATH (DEP-5: the last
match wins; `*` matches any characters including "/", `?` one character), LINE is that field's
line number in the copyright file, as evidence, and COPYRIGHT the paragraph's Copyright field
(its lines joined with "; "). Exits 1 if a path matches no paragraph.
"""

import re
import sys


def paragraphs(path):
    """[(fields {name: (value, line)})] in file order; continuation lines are appended."""
    out, fields, last = [], {}, None
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                if fields:
                    out.append(fields)
                fields, last = {}, None
            elif line[0] in " \t" and last:
                value, at = fields[last]
                fields[last] = (value + "\n" + line.strip(), at)
            else:
                m = re.match(r"([A-Za-z-]+):\s*(.*)", line)
                if m:
                    last = m.group(1).lower()
                    fields[last] = (m.group(2).strip(), no)
    if fields:
        out.append(fields)
    return out


def matches(pattern, path):
    """DEP-5 glob: unlike fnmatch on paths, `*` also matches "/"."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, path) is not None


def main():
    copyright_file, paths = sys.argv[1], sys.argv[2:]
    files_paras = [p for p in paragraphs(copyright_file) if "files" in p and "license" in p]
    status = 0
    for path in paths:
        hit = None
        for para in files_paras:
            if any(matches(pat, path) for pat in para["files"][0].split()):
                hit = para
        if hit is None:
            print(f"{path}\t?\t0\t?")
            status = 1
            continue
        value, line = hit["license"]
        holders = "; ".join(hit.get("copyright", ("?", 0))[0].splitlines())
        print(f"{path}\t{value.splitlines()[0] if value else '?'}\t{line}\t{holders}")
    sys.exit(status)


if __name__ == "__main__":
    main()
