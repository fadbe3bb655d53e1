#!/usr/bin/python3
"""`cmake --install` (make install) into a DESTDIR, no privileges: the exact list of files for the
default prefix (/usr/local) and for /usr (the package's), each in its FHS place; the unit names the
installed binary and defaults file of its prefix; the man page and the completion are the built
ones. Nothing is written outside the temporary DESTDIR (and the build dir's install manifest).
"""

import argparse
import filecmp
import gzip
import os
import re
import subprocess
import sys
import tempfile
import unittest

ARGS = None
EXAMPLES = ["central.yml", "node-agent.yml", "trafstat-alerts.test.yml", "trafstat-alerts.yml"]


def expected_files(prefix, sysconfdir):
    files = [
        f"{prefix}/sbin/trafstat",
        f"{prefix}/share/man/man8/trafstat.8.gz",
        f"{prefix}/share/bash-completion/completions/trafstat",
        f"{prefix}/lib/systemd/system/trafstat-agent.service",
        f"{sysconfdir}/default/trafstat",
    ] + [f"{prefix}/share/doc/trafstat/examples/prometheus/{name}" for name in EXAMPLES]
    return sorted(files)


def install(destdir, prefix=None):
    """The files `cmake --install` puts in `destdir`, as absolute paths of the target system."""
    cmd = ["cmake", "--install", ARGS.build] + (["--prefix", prefix] if prefix else [])
    env = dict(os.environ, DESTDIR=destdir)
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    print(proc.stdout, end="")
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}")
    found = []
    for root, _, files in os.walk(destdir):
        found += ["/" + os.path.relpath(os.path.join(root, name), destdir) for name in files]
    return sorted(found)


class Install(unittest.TestCase):
    def check_prefix(self, prefix, sysconfdir, given):
        with tempfile.TemporaryDirectory() as destdir:
            files = install(destdir, prefix if given else None)
            self.assertEqual(files, expected_files(prefix, sysconfdir))
            with open(f"{destdir}{prefix}/lib/systemd/system/trafstat-agent.service") as f:
                unit = f.read()
            self.assertRegex(unit, rf"(?m)^ExecStart={re.escape(prefix)}/sbin/trafstat agent ")
            self.assertRegex(unit, rf"(?m)^EnvironmentFile=-{re.escape(sysconfdir)}/default/trafstat$")
            self.assertTrue(os.access(f"{destdir}{prefix}/sbin/trafstat", os.X_OK))
            self.assertTrue(
                filecmp.cmp(f"{destdir}{prefix}/share/bash-completion/completions/trafstat", ARGS.completion)
            )
            with gzip.open(f"{destdir}{prefix}/share/man/man8/trafstat.8.gz") as man, open(ARGS.manpage, "rb") as built:
                self.assertEqual(man.read(), built.read())

    def test_default_prefix(self):
        self.check_prefix("/usr/local", "/usr/local/etc", given=False)

    def test_usr_prefix_as_the_package(self):
        # As GNUInstallDirs has it: /etc, not /usr/etc, under the /usr prefix.
        self.check_prefix("/usr", "/etc", given=True)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="the CMake build directory")
    parser.add_argument("--manpage", required=True)
    parser.add_argument("--completion", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
