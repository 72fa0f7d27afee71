# SPDX-License-Identifier: MIT
"""Records, at build time, where pkg-config says libringcast is installed:
the package then loads that library (ringcast/_config.py), whatever the
loader's search path.  RINGCAST_LIB overrides it at run time."""
import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py


def _pkg_config(*args):
    return subprocess.run(("pkg-config",) + args + ("ringcast",),
                          check=True, capture_output=True,
                          text=True).stdout.split()


def libdir():
    # --libs-only-L honours PKG_CONFIG_SYSROOT_DIR; --variable does not.
    try:
        for w in _pkg_config("--libs-only-L"):
            if w.startswith("-L"):
                return w[2:]
        return _pkg_config("--variable=libdir")[0]
    except (OSError, subprocess.CalledProcessError, IndexError) as e:
        raise SystemExit("ringcast: pkg-config cannot find ringcast "
                         "(install libringcast, or set PKG_CONFIG_PATH): "
                         "%s" % e)


class BuildPy(build_py):
    def run(self):
        super().run()
        path = os.path.join(libdir(), "libringcast.so.0")
        if not os.path.exists(path):
            raise SystemExit("ringcast: %s does not exist" % path)
        out = os.path.join(self.build_lib, "ringcast", "_config.py")
        with open(out, "w") as f:
            f.write("# Written by setup.py from pkg-config.\n"
                    "LIBRARY = %r\n" % path)


setup(cmdclass={"build_py": BuildPy})
