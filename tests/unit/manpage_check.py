#!/usr/bin/python3
"""Checks the generated man page (build/trafstat.8, cmake/docs.cmake) against the binary. No
privileges:

  - `MANWIDTH=80 man --warnings -l trafstat.8` renders it with no warning (groff's, man's);
  - every option that `trafstat --help` and each command's `--help` list is in the page, in the
    section of that command (OPTIONS for live counting, the command's own under COMMANDS), with
    its value names; every exit code of docs/exit-codes.md is under EXIT STATUS.

A missing man (package man-db) skips, or fails under CI=true.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import testlib  # noqa: E402

EXIT_CODES = os.path.normpath(os.path.join(HERE, "..", "..", "docs", "exit-codes.md"))
COMMANDS = ("replay", "gen", "attach", "agent", "status", "dump", "detach", "control")
ARGS = None


def render(manpage, width):
    env = dict(os.environ, MANWIDTH=str(width), LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    return subprocess.run(
        ["man", "--warnings", "-l", manpage], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def help_options(command):
    """[(flags, type name)] of every option `trafstat [command] --help` lists, read with a plain
    pattern of its own (not the generator's reader): "  -i,--interval SECONDS   ...", and
    "  --top N:UINT in [0 - 16777216]", where CLI11 adds the range it checks to the type."""
    args = [ARGS.trafstat] + ([command] if command else []) + ["--help"]
    text = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=True).stdout
    options = []
    for match in re.finditer(r"^  (-[-\w,]+)(?: (\S+?)(?::[A-Z]+ in \[.*)?)?(?:  |$)", text, re.M):
        options.append((match.group(1).split(","), match.group(2) or ""))
    return options


def sections(text):
    """The page's text per command: OPTIONS for live counting (""), each subsection of COMMANDS."""
    out = {"": text.split("\nOPTIONS\n", 1)[1].split("\nCOMMANDS\n", 1)[0]}
    commands = text.split("\nCOMMANDS\n", 1)[1].split("\nEXIT STATUS\n", 1)[0]
    parts = re.split(r"^   (\w+)\n", commands, flags=re.M)
    out.update(zip(parts[1::2], parts[2::2]))
    return out


class ManPage(unittest.TestCase):
    def test_renders_without_warnings(self):
        proc = render(ARGS.manpage, 80)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "", "man --warnings printed warnings")
        self.assertIn("trafstat - count packets", proc.stdout)

    def test_every_option_of_every_help_is_in_its_section(self):
        # Wide enough that no option is hyphenated at a line's end.
        by_command = sections(render(ARGS.manpage, 1000).stdout)
        self.assertEqual(sorted(by_command), sorted(("",) + COMMANDS))
        checked = 0
        for command in ("",) + COMMANDS:
            for flags, type_name in help_options(command):
                term = ", ".join(flags) + (f" {type_name}" if type_name else "")
                with self.subTest(command=command or "live", option=term):
                    found = re.search(rf"(?m)^ +{re.escape(term)}$", by_command[command])
                    self.assertTrue(found, f"{term} is not in the man page's {command or 'OPTIONS'} section")
                checked += 1
        print(f"{checked} options of {len(COMMANDS) + 1} --help texts found in the man page")
        self.assertGreater(checked, 100)

    def test_every_exit_code_is_documented(self):
        text = render(ARGS.manpage, 1000).stdout
        status = text.split("\nEXIT STATUS\n", 1)[1].split("\nFILES\n", 1)[0]
        with open(EXIT_CODES) as f:
            codes = re.findall(r"^\| (\d+) \|", f.read(), re.M)
        self.assertGreater(len(codes), 10)
        for code in codes:
            self.assertRegex(status, rf"(?m)^ +{code}$")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trafstat", required=True)
    parser.add_argument("--manpage", required=True)
    ARGS, rest = parser.parse_known_args()
    if shutil.which("man") is None:
        sys.exit(testlib.skip_or_fail("man is not installed (package man-db, scripts/install-deps.sh)", "manpage"))
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
