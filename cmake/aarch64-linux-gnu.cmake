# Cross-compiling for aarch64 Linux with Debian's g++-aarch64-linux-gnu:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# The arm64 libraries are Debian's arm64 -dev packages, unpacked by scripts/setup.sh into
# /opt/difuon/aarch64 (it says why not installed) or, when that folder is absent, installed
# through Debian multiarch in /usr/lib/aarch64-linux-gnu. Headers that do not depend on the
# architecture (nlohmann/json, Boost.Asio) are this machine's /usr/include, which the cross
# compiler searches after its own.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Programs are this machine's; libraries, headers and packages are searched under the unpacked
# root first, then in /usr (lib/aarch64-linux-gnu first: CMAKE_LIBRARY_ARCHITECTURE).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(arm64_root /opt/difuon/aarch64)
if(EXISTS ${arm64_root}/usr/lib/aarch64-linux-gnu)
  set(CMAKE_FIND_ROOT_PATH ${arm64_root})
  set(CMAKE_C_FLAGS_INIT "-isystem ${arm64_root}/usr/include/aarch64-linux-gnu -isystem ${arm64_root}/usr/include")
  set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${arm64_root})
  set(ENV{PKG_CONFIG_LIBDIR} ${arm64_root}/usr/lib/aarch64-linux-gnu/pkgconfig)
else()
  set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
endif()
set(ENV{PKG_CONFIG_PATH} "")
