#!/usr/bin/env python3
"""Fails when a userspace file includes a layer above its own.

The layers and their ranks are read from the table in docs/architecture.md, so
the documentation and the check cannot drift apart. A file in src/<dir>/ may
include "<dir>/..." and "<other>/..." when <other>'s rank is lower than
<dir>'s. Generated skeletons ("*.skel.h") belong to the bpf rank. The kernel
side (bpf/) may include only bpf/ headers and trafstat/abi.h.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*([\w-]+)\s*\|\s*`src/([\w-]+)/`\s*\|")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_ranks():
    ranks = {}
    for line in (ROOT / "docs/architecture.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            ranks[m.group(3)] = int(m.group(1))
    if not ranks:
        sys.exit("lint.layers: no layer table found in docs/architecture.md")
    return ranks


def check_userspace(ranks):
    problems = []
    bpf_rank = ranks.get("bpf")
    for path in sorted((ROOT / "src").rglob("*")):
        if path.suffix not in (".cpp", ".hpp", ".h"):
            continue
        rel = path.relative_to(ROOT / "src")
        if len(rel.parts) < 2:
            problems.append(f"src/{rel}: outside every layer (put it in a directory of docs/architecture.md)")
            continue
        own = rel.parts[0]
        if own not in ranks:
            problems.append(f"src/{rel}: directory {own}/ is not in the layer table of docs/architecture.md")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or m.group(1) != '"':
                continue
            target = m.group(2)
            if target.endswith(".skel.h"):
                if own == "bpf":
                    continue
                other, other_rank = "bpf (skeleton)", bpf_rank
            elif "/" in target:
                other = target.split("/")[0]
                if other == own:
                    continue
                if other not in ranks:
                    problems.append(f"src/{rel}:{number}: includes {target}: no such layer")
                    continue
                other_rank = ranks[other]
            else:
                problems.append(f'src/{rel}:{number}: includes "{target}" without its layer\'s directory')
                continue
            if other_rank >= ranks[own]:
                where = "above" if other_rank > ranks[own] else "beside"
                problems.append(
                    f"src/{rel}:{number}: {own} (rank {ranks[own]}) includes {target}, "
                    f"a layer {where} it ({other}, rank {other_rank})"
                )
    return problems


def check_kernel():
    problems = []
    for path in sorted((ROOT / "bpf").glob("*")):
        if path.suffix not in (".c", ".h"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(2)
            if m.group(1) == '"' and not target.endswith(".bpf.h"):
                problems.append(f'bpf/{path.name}:{number}: the kernel side includes "{target}"')
            if (
                m.group(1) == "<"
                and target.startswith("trafstat/")
                and target != "trafstat/abi.h"
                and target != "trafstat/gen_abi.h"
            ):
                problems.append(f"bpf/{path.name}:{number}: only the ABI headers are shared, not {target}")
    return problems


def main():
    ranks = layer_ranks()
    problems = check_userspace(ranks) + check_kernel()
    for p in problems:
        print(p)
    if problems:
        print(f"lint.layers: {len(problems)} include(s) against docs/architecture.md", file=sys.stderr)
        return 1
    print(f"lint.layers: {len(ranks)} layers, every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
