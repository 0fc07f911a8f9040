"""The front door (Makefile): `make run` builds only what serving needs, `make test` still builds everything.
Checked with `make -n` (nothing is built or installed) and ninja's view of the build graph of this build tree."""

import os
import re
import shlex
import subprocess
import unittest

import harness

BUILD_DIR = os.path.dirname(os.path.abspath(harness.BIN))


def make_dry_run(target):
    """The commands `make TARGET` would run for this build tree, without running them."""
    p = subprocess.run(["make", "-n", "-C", harness.SOURCE_DIR, target, f"BUILD={BUILD_DIR}"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(p.stderr)
    return p.stdout.splitlines()


def build_targets(lines):
    """For each `cmake --build` command: the list of --target names (empty: the default, everything)."""
    out = []
    for line in lines:
        args = shlex.split(line)
        if args[:2] != ["cmake", "--build"]:
            continue
        targets = []
        for i, a in enumerate(args):
            if a in ("--target", "-t"):
                targets.extend(args[i + 1:i + 2])
            elif a.startswith("--target="):
                targets.append(a.split("=", 1)[1])
        out.append(targets)
    return out


def ninja(*args):
    p = subprocess.run(["ninja", "-C", BUILD_DIR, *args], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(p.stderr)
    return p.stdout.splitlines()


class Make(unittest.TestCase):
    def test_make_run_builds_only_the_server_target(self):
        builds = build_targets(make_dry_run("run"))
        self.assertEqual(builds, [["slipway"]], "make run must build exactly --target slipway")

    def test_the_server_target_depends_on_no_test_code(self):
        # Every file the `slipway` target is built from (transitively): the server's sources and libraries only.
        inputs = ninja("-t", "inputs", "slipway")
        self.assertTrue(any(re.search(r"src/main\.cpp$", i) for i in inputs), inputs[:20])
        tests = [i for i in inputs if "/tests/" in i or i.startswith("tests/") or "gtest" in i]
        self.assertEqual(tests, [])

    def test_make_test_still_builds_everything(self):
        builds = build_targets(make_dry_run("test"))
        self.assertEqual(builds, [[]], "make test must build every target (no --target)")

    def test_make_test_and_asan_install_the_tests_npm_packages_before_ctest(self):
        # test_jwt_interop.py fails without jose: the test command must install it (make run need not).
        for target in ("test", "asan"):
            with self.subTest(target):
                lines = make_dry_run(target)
                installs = [i for i, line in enumerate(lines) if "scripts/install-test-deps" in line]
                runs = [i for i, line in enumerate(lines) if "ctest" in line]
                self.assertTrue(installs and runs and installs[0] < runs[0], lines)
        self.assertFalse(any("install-test-deps" in line for line in make_dry_run("run")))


if __name__ == "__main__":
    harness.main()
