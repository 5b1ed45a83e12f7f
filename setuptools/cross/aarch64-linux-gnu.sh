#!/bin/sh
# A wheel for aarch64 Linux, built on x86-64 Debian or Ubuntu with their
# cross compiler (apt-get install gcc-aarch64-linux-gnu): the sdist, then the
# wheel from it, into dist/. From the project's folder, with Python 3.11
# (the target's CPython minor: the wheel's interpreter and ABI tags are the
# building Python's) as python3.11:
#
#   TARGET_ROOT=/path/to/an/arm64/root sh cross/aarch64-linux-gnu.sh
#
# TARGET_ROOT: an arm64 root with the target's Python (python3-dev), such as
# the Debian root `nox -s build_aarch64` makes.
set -eu
root=${TARGET_ROOT:?set TARGET_ROOT to an arm64 root with python3-dev}
venv=${XBUILD_VENV:-.xbuild-aarch64}
data=_sysconfigdata__linux_aarch64-linux-gnu

# setuptools takes the compiler, the linker and the modules' suffix from the
# target's sysconfig data, which Python 3.11 finds only as a module on its
# path: an isolated build resets that path, so this builds without isolation,
# in a venv of its own that holds the build requirements and that module.
python3.11 -m venv "$venv"
"$venv/bin/pip" install --quiet build "setuptools>=77" "cython>=3.1"
cp "$root/usr/lib/python3.11/$data.py" "$venv/lib/python3.11/site-packages/"

# _PYTHON_HOST_PLATFORM tags the wheel linux_aarch64. CPPFLAGS puts the
# target's headers before the build machine's that sysconfig names, and
# finds Debian's <aarch64-linux-gnu/python3.11/pyconfig.h>: CPPFLAGS adds to
# the target's flags, where CFLAGS would replace its -O2.
_PYTHON_HOST_PLATFORM=linux-aarch64 _PYTHON_SYSCONFIGDATA_NAME=$data \
CPPFLAGS="-I$root/usr/include/python3.11 -idirafter $root/usr/include" \
  "$venv/bin/python" -m build --no-isolation "$@"
