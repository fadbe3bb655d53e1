#!/usr/bin/python3
"""Checks the generated bash completion (build/trafstat.bash-completion, cmake/docs.cmake) in a
real interactive bash (`bash -i`, no rc files) with the script sourced: `complete -p trafstat`
names its function, which is then driven as bash drives it (COMP_WORDS, COMP_CWORD) for
commands, options, option values, files and interfaces. Each command's options must be exactly
the ones its `--help` lists (read here with a plain pattern of its own). No privileges.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest

COMMANDS = ("replay", "gen", "attach", "agent", "status", "dump", "detach", "control")
HOOKS = ["xdp", "tc-ingress", "tc-egress", "tc"]
ARGS = None


def bash(script):
    """stdout of `script` run by an interactive bash with the completion sourced."""
    source = f"source {shlex.quote(ARGS.completion)}\n"
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-i", "-c", source + script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise AssertionError(f"bash exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def complete(*words, cwd=None):
    """The completions of the last of `words` (a command line being typed), sorted."""
    function = completion_function()
    line = " ".join(shlex.quote(w) for w in words)
    script = (
        (f"cd {shlex.quote(cwd)}\n" if cwd else "")
        + f"COMP_WORDS=({line}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_LINE={shlex.quote(' '.join(words))}\n"
        + "COMP_POINT=${#COMP_LINE}; COMPREPLY=()\n"
        + f'{function} trafstat "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"\n'
        + 'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    return sorted(line for line in bash(script).splitlines() if line)


def completion_function():
    spec = bash("complete -p trafstat").strip()
    match = re.fullmatch(r"complete -F (\S+) trafstat", spec)
    assert match, f"complete -p trafstat: {spec!r}"
    return match.group(1)


def help_flags(command):
    args = [ARGS.trafstat] + ([command] if command else []) + ["--help"]
    text = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=True).stdout
    return sorted(flag for match in re.finditer(r"^  (-[-\w,]+)", text, re.M) for flag in match.group(1).split(","))


class Completion(unittest.TestCase):
    def test_registered_for_trafstat(self):
        self.assertTrue(completion_function())

    def test_commands(self):
        self.assertTrue(set(COMMANDS) <= set(complete("trafstat", "")))
        self.assertEqual(complete("trafstat", "re"), ["replay"])
        self.assertEqual(complete("trafstat", "d"), ["detach", "dump"])

    def test_options_are_those_of_each_help(self):
        for command in ("",) + COMMANDS:
            with self.subTest(command=command or "live"):
                words = ["trafstat"] + ([command] if command else []) + ["-"]
                self.assertEqual(complete(*words), help_flags(command))
        self.assertEqual(complete("trafstat", "--ho"), ["--hook"])

    def test_option_values(self):
        self.assertEqual(complete("trafstat", "--hook", ""), sorted(HOOKS))
        self.assertEqual(complete("trafstat", "attach", "--xdp-mode", ""), ["auto", "generic", "native", "offload"])
        self.assertEqual(complete("trafstat", "agent", "--tc-mode", "c"), ["clsact"])
        self.assertEqual(complete("trafstat", "--sort", ""), ["bps", "bytes", "packets", "pps"])
        self.assertEqual(complete("trafstat", "dump", "--sort", "=", "b"), ["bps", "bytes"])  # --sort=b
        self.assertEqual(complete("trafstat", "replay", "--talkers-by", ""), ["dst", "src", "total"])
        self.assertEqual(complete("trafstat", "gen", "--proto", "tcp"), ["tcp4", "tcp6"])
        self.assertEqual(complete("trafstat", "gen", "--action", ""), ["pass", "tx"])
        self.assertEqual(complete("trafstat", "control", "lo", "--flows", ""), ["off", "on"])
        # control's help does not list the hooks; live counting's does.
        self.assertEqual(complete("trafstat", "control", "lo", "--hook", "tc-"), ["tc-egress", "tc-ingress"])
        # A number is the user's own: nothing offered, not even files.
        self.assertEqual(complete("trafstat", "-i", ""), [])

    def test_interfaces(self):
        interfaces = sorted(os.listdir("/sys/class/net"))
        self.assertIn("lo", interfaces)
        self.assertEqual(complete("trafstat", "attach", ""), interfaces)
        self.assertEqual(complete("trafstat", "--flows", "l"), [i for i in interfaces if i.startswith("l")])
        self.assertEqual(complete("trafstat", "control", "lo"), ["lo"])
        self.assertTrue(set(interfaces) <= set(complete("trafstat", "")))

    def test_files_and_directories(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.mkdir(os.path.join(tmp, "pins"))
            open(os.path.join(tmp, "capture.pcap"), "w").close()
            self.assertEqual(complete("trafstat", "replay", "--json", "c", cwd=tmp), ["capture.pcap"])
            self.assertEqual(complete("trafstat", "status", "--pin-dir", "", cwd=tmp), ["pins"])
            self.assertEqual(complete("trafstat", "--ipfix-file", "", cwd=tmp), ["capture.pcap", "pins"])


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trafstat", required=True)
    parser.add_argument("--completion", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
