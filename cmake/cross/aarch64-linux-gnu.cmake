# CMake toolchain file: a wheel for aarch64 Linux, built on x86-64 Debian or
# Ubuntu with their cross compiler (apt-get install gcc-aarch64-linux-gnu)
# and qemu-user (apt-get install qemu-user):
#
#   _PYTHON_HOST_PLATFORM=linux-aarch64 python -m build \
#     -Ccmake.toolchain-file=$PWD/cross/aarch64-linux-gnu.cmake \
#     -Ccmake.define.CMAKE_POLICY_DEFAULT_CMP0190=NEW
#
# Build with the same CPython minor as the target's (3.11 here): the wheel's
# interpreter and ABI tags are the building Python's. _PYTHON_HOST_PLATFORM
# tags it linux_aarch64 (scikit-build-core reads it).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

# An arm64 root with the target's Python (python3, python3-dev), such as the
# Debian root `nox -s build_aarch64` makes: set its path here.
set(target_root /path/to/an/arm64/root)
# FindPython asks the target's interpreter, run by qemu-user, for the
# modules' suffix (.cpython-311-aarch64-linux-gnu.so). CMake 4's policy
# CMP0190 (the -D above: this file is read after cmake_minimum_required has
# set the policies) is what lets it; without both, the modules are named
# plain _core.so.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L ${target_root})
set(Python_EXECUTABLE ${target_root}/usr/bin/python3.11)
# The target's headers, not the build Python's that scikit-build-core hints.
set(Python_INCLUDE_DIR ${target_root}/usr/include/python3.11)
# Debian's pyconfig.h includes <aarch64-linux-gnu/python3.11/pyconfig.h>.
set(CMAKE_C_FLAGS_INIT "-idirafter ${target_root}/usr/include")
