#!/usr/bin/python3
"""Checks the files that run trafstat as a service (dist/): the systemd unit, the alert rules, the
fleet's Prometheus configurations. No privileges, no network; one check per CTest:

  service_check.py unit-verify --trafstat build/trafstat   systemd-analyze verify and security
  service_check.py rules-check                             promtool check rules
  service_check.py rules-test                              promtool test rules (the .test.yml)
  service_check.py config-check                            promtool check config (node-agent, central)

A missing systemd-analyze or promtool skips (exit 77), or fails under CI=true
(scripts/install-deps.sh installs both: packages systemd and prometheus).

unit-verify runs `systemd-analyze verify` offline: with no systemd as PID 1 it loads the unit
from a temporary root (--root) holding the host's own units (for sysinit.target and the other
default dependencies), the unit installed as docs/agent.md installs it, and the built trafstat at
/usr/sbin/trafstat, where ExecStart looks for it. Any output is a failure: verify exits 0 on
unknown keys and bad values, and only warns. `systemd-analyze security --offline` then keeps
the unit's exposure score at or under its present level.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import testlib  # noqa: E402

DIST = os.path.normpath(os.path.join(HERE, "..", "..", "dist"))
UNIT = os.path.join(DIST, "systemd", "trafstat-agent.service")
DEFAULTS = os.path.join(DIST, "default", "trafstat")
RULES = os.path.join(DIST, "prometheus", "trafstat-alerts.yml")
RULES_TEST = os.path.join(DIST, "prometheus", "trafstat-alerts.test.yml")
NODE_AGENT = os.path.join(DIST, "prometheus", "node-agent.yml")
CENTRAL = os.path.join(DIST, "prometheus", "central.yml")
# `systemd-analyze security` scores 0 (locked down) to 10; --threshold takes tenths. The unit
# scores 2.0 (the rest is root, CAP_BPF, CAP_NET_ADMIN and the host network, all needed).
EXPOSURE_MAX_TENTHS = 20


def tool(name, suite):
    """The path of `name`, or None after reporting it missing (skip, or fail under CI=true)."""
    path = shutil.which(name)
    if path is None:
        sys.exit(testlib.skip_or_fail(f"{name} is not installed (scripts/install-deps.sh)", suite))
    return path


def run(cmd, *, echo_tail=None):
    """Runs `cmd`, echoes it and its output (on success only the last `echo_tail` lines, when
    given); returns (exit code, output)."""
    print("+ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    shown = proc.stdout
    if echo_tail is not None and proc.returncode == 0:
        shown = "".join(proc.stdout.splitlines(keepends=True)[-echo_tail:])
    print(shown, end="", flush=True)
    return proc.returncode, proc.stdout


def host_units():
    for path in ("/usr/lib/systemd/system", "/lib/systemd/system"):
        if os.path.isdir(path):
            return os.path.realpath(path)
    return None


def make_root(tmp, trafstat, units):
    """A root for systemd-analyze --root: the host's units, ours in /etc, trafstat in /usr/sbin."""
    shutil.copytree(units, os.path.join(tmp, "usr", "lib", "systemd", "system"), symlinks=True)
    for source, target in (
        (UNIT, "etc/systemd/system/trafstat-agent.service"),
        (DEFAULTS, "etc/default/trafstat"),
        (trafstat, "usr/sbin/trafstat"),
    ):
        os.makedirs(os.path.dirname(os.path.join(tmp, target)), exist_ok=True)
        shutil.copy2(source, os.path.join(tmp, target))


def unit_verify(args):
    analyze = tool("systemd-analyze", "service.unit_verify")
    if not os.access(args.trafstat or "", os.X_OK):
        print(f"FAIL: no trafstat executable at {args.trafstat!r}", file=sys.stderr)
        return 1
    units = host_units()
    if units is None:
        print("FAIL: systemd-analyze is here but no systemd unit directory is", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="trafstat-unit-") as root:
        make_root(root, args.trafstat, units)
        verify = [analyze, "verify", "--man=no", "--generators=no", f"--root={root}", "trafstat-agent.service"]
        rc, out = run(verify)
        if rc != 0 or out.strip():
            print("FAIL: systemd-analyze verify complained about the unit", file=sys.stderr)
            return 1
        # The check is real: without the binary, verify says so (and the test would fail).
        os.remove(os.path.join(root, "usr", "sbin", "trafstat"))
        rc, out = run(verify)
        if rc == 0 or "/usr/sbin/trafstat" not in out:
            print(
                "FAIL: verify did not notice a missing /usr/sbin/trafstat: the check above proves nothing",
                file=sys.stderr,
            )
            return 1
        rc, _ = run(
            [
                analyze,
                "security",
                "--offline=yes",
                f"--threshold={EXPOSURE_MAX_TENTHS}",
                f"--root={root}",
                "trafstat-agent.service",
            ],
            echo_tail=1,
        )
        if rc != 0:
            print(
                f"FAIL: the unit's exposure is above {EXPOSURE_MAX_TENTHS / 10}: a hardening went away", file=sys.stderr
            )
            return 1
    print("service.unit_verify: the unit verifies clean, exposure within bounds")
    return 0


def rules_check(_args):
    rc, _ = run([tool("promtool", "service.rules_check"), "check", "rules", RULES])
    return rc


def rules_test(_args):
    rc, _ = run([tool("promtool", "service.rules_test"), "test", "rules", RULES_TEST])
    return rc


def config_check(_args):
    promtool = tool("promtool", "service.config_check")
    rc_node, _ = run([promtool, "check", "config", "--agent", NODE_AGENT])
    rc_central, _ = run([promtool, "check", "config", CENTRAL])
    return 1 if rc_node or rc_central else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("check", choices=("unit-verify", "rules-check", "rules-test", "config-check"))
    ap.add_argument("--trafstat", help="the trafstat binary to install in the unit's root (unit-verify)")
    args = ap.parse_args()
    checks = {
        "unit-verify": unit_verify,
        "rules-check": rules_check,
        "rules-test": rules_test,
        "config-check": config_check,
    }
    return checks[args.check](args)


if __name__ == "__main__":
    sys.exit(main())
