# SPDX-License-Identifier: MIT
"""The package's C declarations agree with include/ringcast.h: sizes and
offsets of every struct, compiled by the C compiler."""
import os
import shutil
import subprocess

import pytest

from ringcast._ffi import STRUCTS, ffi


def test_structs_match_the_header(tmp_path):
    inc = os.environ.get("RINGCAST_INCLUDE")
    cc = os.environ.get("CC") or shutil.which("cc")
    if not inc or not cc:
        pytest.skip("RINGCAST_INCLUDE or a C compiler is missing")
    lines = []
    for s in STRUCTS:
        t = ffi.typeof("struct " + s)
        lines.append('printf("%s %%zu\\n", sizeof(struct %s));' % (s, s))
        for f, _ in t.fields:
            lines.append('printf("%s.%s %%zu\\n", offsetof(struct %s, %s));'
                         % (s, f, s, f))
    src = tmp_path / "abi.c"
    src.write_text("#include <stddef.h>\n#include <stdio.h>\n"
                   "#include <ringcast.h>\nint main(void)\n{\n%s\n"
                   "return 0;\n}\n" % "\n".join(lines))
    exe = tmp_path / "abi"
    subprocess.run(cc.split() + ["-I", inc, "-o", str(exe), str(src)],
                   check=True)
    c = dict(ln.split() for ln in subprocess.run(
        [str(exe)], check=True, capture_output=True,
        text=True).stdout.splitlines())
    py = {}
    for s in STRUCTS:
        t = ffi.typeof("struct " + s)
        py[s] = str(ffi.sizeof(t))
        for f, _ in t.fields:
            py["%s.%s" % (s, f)] = str(ffi.offsetof(t, f))
    assert py == c
    # Every field of the header's structs is declared (none missing).
    for s in STRUCTS:
        assert int(c[s]) == ffi.sizeof("struct " + s)
