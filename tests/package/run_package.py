#!/usr/bin/python3
"""The Debian package end to end (root): `cpack -G DEB` from the build directory (as make deb),
lintian (any error fails; warnings and info tags are printed), then `dpkg -i` in a throw-away
root and `dpkg --purge` there.

The throw-away root is this host seen through a private mount namespace (`unshare -m
--propagation private`, the runner starts itself again inside it) in which /usr, /etc and /var
are overlayfs mounts over themselves, their writes in a tmpfs: dpkg installs into the overlays,
and everything it wrote vanishes with the namespace. There:
  - `trafstat --version`, `man trafstat` (found by man-db, rendered with no warning),
    `systemd-analyze verify` of the installed unit (its Documentation=man:trafstat(8) included),
    the bash completion registered for trafstat;
  - the unit is installed but not enabled, the package has no maintainer scripts, its one
    conffile is /etc/default/trafstat;
  - after `dpkg --purge`, none of the files `dpkg -L` listed is left, nor any file named after
    the package anywhere the overlays caught a write (but man-db's cache of the page formatted
    by the check's own `man trafstat`).
Outside, the host's dpkg database (/var/lib/dpkg/status and info/) and the package's paths are
the same before and after.

Not root, or a missing tool: skip (77), or fail under CI=true.
"""

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import testlib  # noqa: E402

PACKAGE = "trafstat"
OVERLAID = ("/usr", "/etc", "/var")
TOOLS = ("cpack", "lintian", "dpkg", "dpkg-deb", "unshare", "systemd-analyze", "man", "bash")
UNIT = "/usr/lib/systemd/system/trafstat-agent.service"
FAILURES = []


def log(text):
    print(text, flush=True)


def check(ok, what):
    log(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        FAILURES.append(what)
    return ok


def run(cmd, *, env=None, timeout=300, quiet=False):
    """Runs `cmd`; returns (exit code, stdout, stderr), echoed."""
    log("+ " + " ".join(cmd))
    proc = subprocess.run(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if not quiet:
        print(proc.stdout, end="", flush=True)
    print(proc.stderr, end="", file=sys.stderr, flush=True)
    return proc.returncode, proc.stdout, proc.stderr


def dpkg_state():
    """What dpkg knows on this host: a digest of its status file and of its info/ files."""
    digest = hashlib.sha256()
    for path in ["/var/lib/dpkg/status"] + sorted(glob.glob("/var/lib/dpkg/info/*")):
        digest.update(path.encode())
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def package_paths_present(deb):
    """The package's files that exist on this host (none should)."""
    names = subprocess.run(["dpkg-deb", "-c", deb], stdout=subprocess.PIPE, text=True, check=True).stdout
    files = [line.split()[-1].lstrip(".") for line in names.splitlines() if not line.startswith("d")]
    return sorted(f for f in files if os.path.lexists(f))


# --- inside the private mount namespace -------------------------------------------------------


def overlay_system(scratch):
    """/usr, /etc and /var as overlays over themselves, writes into a tmpfs under `scratch`;
    returns the upper directories."""
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", scratch], check=True)
    uppers = {}
    for directory in OVERLAID:
        name = directory.strip("/")
        upper, work = os.path.join(scratch, name, "upper"), os.path.join(scratch, name, "work")
        os.makedirs(upper)
        os.makedirs(work)
        options = f"lowerdir={directory},upperdir={upper},workdir={work}"
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, directory], check=True)
        uppers[directory] = upper
    return uppers


def installed_checks():
    rc, out, _ = run(["/usr/sbin/trafstat", "--version"])
    check(rc == 0 and out.strip().startswith("trafstat "), "trafstat --version")

    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    rc, out, err = run(["man", "--warnings", PACKAGE], env=env, quiet=True)
    check(rc == 0 and "trafstat - count packets" in out and not err.strip(), "man trafstat renders, no warning")
    rc, out, _ = run(["man", "-w", PACKAGE])
    check(out.strip() == "/usr/share/man/man8/trafstat.8.gz", "man finds /usr/share/man/man8/trafstat.8.gz")

    # Any output is a complaint (verify exits 0 on some); the man page of Documentation= is checked.
    rc, out, err = run(["systemd-analyze", "verify", "--generators=no", UNIT])
    check(rc == 0 and not (out + err).strip(), "systemd-analyze verify of the installed unit: clean")
    rc, out, _ = run(["systemctl", "--root=/", "is-enabled", "trafstat-agent.service"])
    check(out.strip() == "disabled", "the unit is installed, not enabled")

    completion = "/usr/share/bash-completion/completions/trafstat"
    rc, out, _ = run(["bash", "--norc", "--noprofile", "-c", f"source {completion} && complete -p trafstat"])
    check(rc == 0 and out.startswith("complete -F "), "the completion registers itself for trafstat")

    scripts = [
        s for s in ("preinst", "postinst", "prerm", "postrm") if os.path.exists(f"/var/lib/dpkg/info/{PACKAGE}.{s}")
    ]
    check(not scripts, f"no maintainer scripts (found: {scripts})")
    rc, out, _ = run(["dpkg-query", "-W", "-f=${Conffiles}\n", PACKAGE])
    check([line.split()[0] for line in out.splitlines() if line.strip()] == ["/etc/default/trafstat"], "conffiles")


def inside(deb, scratch):
    uppers = overlay_system(scratch)
    rc, _, _ = run(["dpkg", "-s", PACKAGE], quiet=True)
    if not check(rc != 0, "not installed in the throw-away root before dpkg -i"):
        return 1
    rc, _, _ = run(["dpkg", "-i", deb])
    if not check(rc == 0, "dpkg -i"):
        return 1
    installed_checks()

    _, listing, _ = run(["dpkg", "-L", PACKAGE], quiet=True)
    files = [path for path in listing.splitlines() if path.strip() and not os.path.isdir(path)]
    check(len(files) >= 10, f"dpkg -L lists the package's files ({len(files)})")
    rc, _, _ = run(["dpkg", "--purge", PACKAGE])
    check(rc == 0, "dpkg --purge")
    left = [path for path in files if os.path.lexists(path)]
    check(not left, f"no file of the package left after the purge (left: {left})")
    check(not os.path.exists("/usr/share/doc/trafstat"), "/usr/share/doc/trafstat removed")
    named = []
    for directory, upper in uppers.items():
        for root, dirs, names in os.walk(upper):
            # man-db's cache of the page that `man trafstat` above formatted: man's, not dpkg's.
            if os.path.relpath(root, upper).startswith("cache/man"):
                continue
            named += [os.path.join(root, n) for n in dirs + names if PACKAGE in n]
    check(not named, f"nothing named after the package in what dpkg wrote (found: {named})")
    rc, _, _ = run(["dpkg", "-s", PACKAGE], quiet=True)
    check(rc != 0, "dpkg -s: not installed after the purge")
    return 1 if FAILURES else 0


# --- outside ----------------------------------------------------------------------------------


def build_deb(build, out):
    rc, stdout, _ = run(["cpack", "-G", "DEB", "-B", out, "--config", os.path.join(build, "CPackConfig.cmake")])
    debs = glob.glob(os.path.join(out, "*.deb"))
    check(rc == 0 and len(debs) == 1, "cpack -G DEB made one .deb")
    return debs[0] if debs else None


def lint(deb):
    # --fail-on error: warnings and info tags are reported (the lead's note gives their reasons).
    rc, out, _ = run(["lintian", "--fail-on", "error", "--display-info", "--pedantic", deb], quiet=True)
    tags = [line for line in out.splitlines() if line[:2] in ("E:", "W:", "I:", "P:")]
    for tag in tags:
        log(f"  lintian {tag}")
    check(rc == 0 and not any(t.startswith("E:") for t in tags), "lintian: no error")


def outside(args):
    if os.geteuid() != 0:
        return testlib.skip_or_fail("not root (dpkg -i in a private mount namespace)", "package")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return testlib.skip_or_fail(f"missing {' '.join(missing)} (scripts/install-deps.sh)", "package")
    rc, _, _ = run(["dpkg", "-s", PACKAGE], quiet=True)
    if rc == 0:
        log(f"FAIL: the host has the package {PACKAGE} installed: this test installs and purges its own")
        return 1

    with tempfile.TemporaryDirectory(prefix="trafstat-package-") as tmp:
        deb = build_deb(args.build, os.path.join(tmp, "deb"))
        if deb is None:
            return 1
        lint(deb)
        state = dpkg_state()
        present = package_paths_present(deb)
        scratch = os.path.join(tmp, "overlay")
        os.mkdir(scratch)
        cmd = ["unshare", "-m", "--propagation", "private", sys.executable, os.path.abspath(__file__)]
        rc = subprocess.run(cmd + ["--inside", "--deb", deb, "--scratch", scratch], timeout=600).returncode
        check(rc == 0, "inside the throw-away root: every check passed")
        check(dpkg_state() == state, "the host's dpkg database is unchanged")
        check(package_paths_present(deb) == present == [], "none of the package's files is on the host")
    if FAILURES:
        log(f"package: {len(FAILURES)} failure(s): {FAILURES}")
        return 1
    log("package: the .deb builds, lints, installs, works and purges cleanly; the host is untouched")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", help="the CMake build directory (CPackConfig.cmake)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--deb", help=argparse.SUPPRESS)
    ap.add_argument("--scratch", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inside:
        sys.exit(inside(args.deb, args.scratch))
    sys.exit(outside(args))


if __name__ == "__main__":
    main()
