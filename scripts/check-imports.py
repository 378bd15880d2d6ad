#!/usr/bin/env python3
"""Import circles between sibling modules of src/ (db/outbox -> db/supervisor
-> db/outbox, say), which the compiler allows within a crate. A module's
imports are the `crate::…` and `super::…` paths it names. Prints each circle
as a chain and exits 1 when there is one; run by scripts/check-layers."""
import pathlib
import re
import sys

src = pathlib.Path(__file__).resolve().parent.parent / "src"
modules = {}
for path in src.rglob("*.rs"):
    rel = path.relative_to(src).with_suffix("").as_posix()
    if rel.endswith("/mod"):
        rel = rel[: -len("/mod")]
    if rel.endswith("/tests") or rel in ("main", "lib"):
        continue
    modules[rel] = path.read_text()


def resolve(parts):
    """The deepest module a path names."""
    for k in range(len(parts), 0, -1):
        name = "/".join(parts[:k])
        if name in modules:
            return name
    return None


graph = {}
for name, text in modules.items():
    text = re.sub(r"(?s)#\[cfg\(test\)\]\s*mod tests \{.*", "", text)
    parent = name.rsplit("/", 1)[0] if "/" in name else ""
    found = set()
    for ref in re.findall(r"crate::((?:\w+::)*\w+)", text):
        found.add(resolve(ref.split("::")))
    base = parent.split("/") if parent else []
    for ref in re.findall(r"super::((?:\w+::)*\w+)", text):
        found.add(resolve(base + ref.split("::")))
    for group in re.findall(r"(?:crate|super)::\{([^}]*)\}", text):
        for item in group.split(","):
            first = item.strip().split("::")[0]
            found.add(resolve(base + [first]) if first else None)
    # A module may use its parent and its children: that is how Rust nests.
    graph[name] = {
        d for d in found
        if d and d != name and not d.startswith(name + "/") and not name.startswith(d + "/")
    }


def sibling(a, b):
    return a.rsplit("/", 1)[0] == b.rsplit("/", 1)[0] if "/" in a and "/" in b else "/" not in a and "/" not in b


def path_between(start, goal):
    seen, stack = {start}, [(start, [start])]
    while stack:
        node, trail = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == goal:
                return trail + [goal]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, trail + [nxt]))
    return None


circles = set()
for a, deps in graph.items():
    for b in deps:
        if sibling(a, b):
            back = path_between(b, a)
            if back and all(sibling(a, m) or m.startswith(tuple(x + "/" for x in (a, b))) for m in back):
                circles.add(" -> ".join([a] + back))
for circle in sorted(circles):
    print("import circle:", circle)
sys.exit(1 if circles else 0)
