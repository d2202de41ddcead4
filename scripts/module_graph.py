#!/usr/bin/env python3
"""Module import graph of every crate in the workspace: fails when modules import each other.

Why: two modules that import each other (directly, or around a longer loop) cannot be read, tested
or moved one at a time; issue 19 asks that no crate has such a circle. The compiler allows them, so
this script is the check (scripts/test.sh runs it after clippy).

What counts as an edge, per crate (a lib, a bin, each integration test or bench root):
- `use crate::a::b::X`, `use super::x`, `use self::x`, `use child::x` and `crate::`/`super::`
  paths written in code are edges from the module that writes them to the deepest module the path
  names (`crate::a::b::X` -> `a::b` when `a::b` is a module, else `a`);
- `mod child;` (and an inline `mod child { .. }`) is not an edge: declaring a child is not
  importing it. A child that imports its parent (`use super::Thing`) is an edge, so a parent that
  also imports that child makes a loop.

Usage: module_graph.py [ROOT]     check every crate under ROOT (default: the repository)
       module_graph.py --self-test  build a small crate with loops in a temporary folder and check
                                    that each loop is caught and a clean crate passes
Exit status 1 lists each loop found. Standard library only.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

SKIPPED_DIRS = {"target", "node_modules", ".venv", ".git"}
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_literals(text: str) -> str:
    """The source with comments, strings and char literals blanked (line breaks kept)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and nxt == "*":
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
            out.append(" ")
            continue
        raw = re.match(r'b?r(#*)"', text[i:i + 260]) if c in "rb" else None
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find('"' + raw.group(1), i + raw.end())
            end = n if end < 0 else end + 1 + len(raw.group(1))
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            char = re.match(r"'(\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'", text[i:i + 12])
            if char:
                out.append("' '")
                i += char.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


class Module:
    def __init__(self, path: tuple[str, ...], file: Path, directory: Path):
        self.path = path  # () is the crate root
        self.file = file
        self.directory = directory  # where `mod child;` looks for child.rs / child/mod.rs
        self.children: set[str] = set()
        self.body: list[str] = []


def name_of(path: tuple[str, ...]) -> str:
    return "::".join(("crate",) + path)


def load_crate(root_file: Path) -> dict[tuple[str, ...], Module]:
    """Every module reachable from `root_file` by `mod` declarations, with its own source text."""
    modules: dict[tuple[str, ...], Module] = {}

    def load(path: tuple[str, ...], file: Path, text: str, directory: Path) -> None:
        module = Module(path, file, directory)
        modules[path] = module
        pos = 0
        decl = re.compile(r"\bmod\s+(" + IDENT + r")\s*([;{])")
        body: list[str] = []
        while True:
            found = decl.search(text, pos)
            if not found:
                body.append(text[pos:])
                break
            body.append(text[pos:found.start()])
            child = found.group(1)
            module.children.add(child)
            if found.group(2) == ";":
                candidates = [directory / f"{child}.rs", directory / child / "mod.rs"]
                child_file = next((p for p in candidates if p.is_file()), None)
                if child_file is not None:
                    child_dir = child_file.parent if child_file.name == "mod.rs" else directory / child
                    source = strip_comments_and_literals(child_file.read_text(encoding="utf-8"))
                    load(path + (child,), child_file, source, child_dir)
                pos = found.end()
            else:  # inline module: its text up to the matching brace belongs to the child
                depth, j = 1, found.end()
                while j < len(text) and depth:
                    depth += {"{": 1, "}": -1}.get(text[j], 0)
                    j += 1
                load(path + (child,), file, text[found.end():j - 1], directory / child)
                pos = j
        module.body = body

    source = strip_comments_and_literals(root_file.read_text(encoding="utf-8"))
    load((), root_file, source, root_file.parent)
    return modules


def use_paths(tree: str) -> list[list[str]]:
    """The paths of one `use` tree (`a::{b, c::{d as e}}` -> [[a, b], [a, c, d]])."""
    tree = re.sub(r"\s*(::|[{},])\s*", r"\1", tree.strip())
    paths: list[list[str]] = []

    def walk(prefix: list[str], part: str) -> None:
        brace = part.find("{")
        if brace < 0:
            segments = [s for s in re.split(r"\s+as\s+", part)[0].split("::") if s]
            paths.append(prefix + [s for s in segments if s != "*"])
            return
        head = [s for s in part[:brace].split("::") if s]
        inner = part[brace + 1:part.rindex("}")]
        depth, start = 0, 0
        for k, ch in enumerate(inner + ","):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                item = inner[start:k]
                if item:
                    walk(prefix + head, item)
                start = k + 1

    walk([], tree)
    return paths


def resolve(module: tuple[str, ...], segments: list[str], modules) -> tuple[str, ...] | None:
    """The deepest module that a path written in `module` names, or None outside the crate."""
    if not segments:
        return None
    if segments[0] == "crate":
        base, rest = (), segments[1:]
    elif segments[0] in ("super", "self"):
        base, rest = module, segments
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                if not base:
                    return None
                base = base[:-1]
            rest = rest[1:]
    elif segments[0] in modules[module].children:
        base, rest = module, segments
    else:
        return None  # another crate, the prelude, or a name in scope
    target = base
    for segment in rest:
        if target + (segment,) in modules:
            target = target + (segment,)
        else:
            break
    return target


def edges_of(modules) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    edges: dict[tuple[str, ...], set[tuple[str, ...]]] = {path: set() for path in modules}
    use = re.compile(r"\buse\s+([^;]+);")
    written = re.compile(r"(?<![A-Za-z0-9_:$])((?:crate|super|self)(?:::" + IDENT + r")+)")
    for path, module in modules.items():
        body = "".join(module.body)
        found: list[list[str]] = []
        for statement in use.finditer(body):
            found.extend(use_paths(statement.group(1)))
        code = use.sub(" ", body)
        found.extend(m.group(1).split("::") for m in written.finditer(code))
        if module.children:  # `child::f()` written in code names the child module
            children = "|".join(sorted(module.children))
            by_child = re.compile(r"(?<![A-Za-z0-9_:$])((?:" + children + r")(?:::" + IDENT + r")+)")
            found.extend(m.group(1).split("::") for m in by_child.finditer(code))
        for segments in found:
            target = resolve(path, segments, modules)
            if target is not None and target != path:
                edges[path].add(target)
    return edges


def loops(edges) -> list[list[tuple[str, ...]]]:
    """Each strongly connected group of two or more modules, as one loop through it."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on_stack: set = set()
    groups: list[list] = []
    counter = [0]

    def connect(v) -> None:  # Tarjan, recursive: module trees are shallow
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return [cycle_through(group, edges) for group in groups]


def cycle_through(group, edges) -> list:
    """A shortest loop from the group's first module back to itself, within the group."""
    members = set(group)
    start = min(group)
    previous = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges[v]):
            if w == start:
                cycle = [v]
                while previous[cycle[-1]] is not None:
                    cycle.append(previous[cycle[-1]])
                return list(reversed(cycle)) + [start]
            if w in members and w not in previous:
                previous[w] = v
                queue.append(w)
    return sorted(group)


def crate_roots(repo: Path) -> list[tuple[str, Path]]:
    roots = []
    packages = []
    for folder, subfolders, names in os.walk(repo):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_DIRS)
        if "Cargo.toml" in names:
            packages.append(Path(folder))
    for package in sorted(packages):
        src = package / "src"
        files = [src / "lib.rs", src / "main.rs"]
        files += sorted((src / "bin").glob("*.rs"))
        for extra in ("tests", "benches", "examples"):
            folder = package / extra
            files += sorted(folder.glob("*.rs")) + sorted(folder.glob("*/main.rs"))
        roots += [(str(f.relative_to(repo)), f) for f in files if f.is_file()]
    return roots


def check(repo: Path) -> list[str]:
    problems = []
    for label, root_file in crate_roots(repo):
        modules = load_crate(root_file)
        for cycle in loops(edges_of(modules)):
            problems.append(f"{label}: " + " -> ".join(name_of(p) for p in cycle))
    return problems


def self_test() -> None:
    files = {
        "Cargo.toml": '[package]\nname = "looped"\nversion = "0.1.0"\n',
        # Two siblings that import each other, one of them through a use tree.
        "src/lib.rs": "mod a;\nmod b;\nmod caller;\nmod clean;\nmod parent;\nmod ring;\n",
        "src/a.rs": "use crate::{b::{B as Bee}};\npub struct A;\n",
        "src/b.rs": "pub struct B;\nfn f() -> super::a::A { crate::a::A }\n",
        # A parent that imports its child, which imports the parent back.
        "src/parent/mod.rs": "mod child;\npub use child::Child;\npub struct Shared;\n",
        # A dispatcher that calls its child by path, and the child that imports the dispatcher.
        "src/caller/mod.rs": "mod callee;\npub struct Job;\npub fn run() { callee::work() }\n",
        "src/caller/callee.rs": "pub fn work() { let _ = super::Job; }\n",
        "src/parent/child.rs": "use super::Shared;\npub struct Child(Shared);\n",
        # A loop of three, one edge written as a path in code; comments and strings are no edges.
        "src/ring/mod.rs": "pub mod x;\npub mod y;\npub mod z;\n",
        "src/ring/x.rs": "use super::y::Y;\npub struct X;\n",
        "src/ring/y.rs": "use super::z::Z;\npub struct Y;\n",
        "src/ring/z.rs": "pub struct Z(crate::ring::x::X);\n",
        # Declaring children, a child importing its parent, and tests using super::* are no loop.
        "src/clean/mod.rs": (
            "mod leaf;\nmod other;\npub struct Root;\n"
            "// use leaf::Leaf;\nconst S: &str = \"use other::Other;\";\n"
            "#[cfg(test)]\nmod tests {\n    use super::*;\n    fn f(_: Root) {}\n}\n"
        ),
        "src/clean/leaf.rs": "use super::Root;\nuse super::other::Other;\npub struct Leaf(Root, Other);\n",
        "src/clean/other.rs": "pub struct Other;\nfn c() -> char { '}' }\n",
    }
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder)
        for name, text in files.items():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_text(text, encoding="utf-8")
        found = check(repo)
        expected = [
            "src/lib.rs: crate::a -> crate::b -> crate::a",
            "src/lib.rs: crate::caller -> crate::caller::callee -> crate::caller",
            "src/lib.rs: crate::parent -> crate::parent::child -> crate::parent",
            "src/lib.rs: crate::ring::x -> crate::ring::y -> crate::ring::z -> crate::ring::x",
        ]
        if sorted(found) != expected:
            print("module_graph self-test failed:\n  found    " + "\n           ".join(found)
                  + "\n  expected " + "\n           ".join(expected))
            sys.exit(1)
    print("module_graph self-test: the four planted loops are caught and the clean modules pass")


def main(argv: list[str]) -> int:
    args = argv[1:]
    if args and args[0] == "--self-test":
        self_test()
        args = args[1:]
    repo = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    problems = check(repo)
    for problem in problems:
        print(f"import loop: {problem}")
    if problems:
        print(f"{len(problems)} import loop(s): modules that import each other cannot be read or moved one at a time")
        return 1
    print("module graph: no import loops")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
