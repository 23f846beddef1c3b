#!/usr/bin/env bash
# Installs every Debian package the build and the tests need (DESIGN.md §6).
# Idempotent: on a machine that already has them it prints nothing and installs nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  antlr4 libantlr4-runtime-dev
  llvm-19-dev clang-19 libclang-rt-19-dev lld-19
  libsodium-dev libssl-dev libsqlite3-dev libboost-dev libz3-dev libseccomp-dev
  libgtest-dev libgmock-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libmimalloc-dev
  g++-aarch64-linux-gnu qemu-user
  graphviz clang-format-19 clang-tidy-19 tcpdump neovim
)

# The aarch64 fogger's arm64 libraries (fogger/CMakeLists.txt, cmake/aarch64-linux-gnu.cmake):
# Debian's arm64 -dev packages, unpacked into arm64_root, not installed. Installed, they bring
# libc6:arm64, and programs run by `qemu-aarch64 -L /usr/aarch64-linux-gnu` then load that C
# library with the cross toolchain's loader, a different build (fork hangs in the child).
arm64_root=/opt/difuon/aarch64
arm64_packages=(libsodium-dev libsqlite3-dev libssl-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
arm64_missing=0
[ "$(cat "$arm64_root/packages" 2>/dev/null)" = "${arm64_packages[*]}" ] || arm64_missing=1
[ ${#missing[@]} -eq 0 ] && [ $arm64_missing -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ $arm64_missing -eq 1 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "setup: adding the arm64 architecture (for apt-get download)" >&2
  $sudo dpkg --add-architecture arm64
fi
$sudo apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ $arm64_missing -eq 1 ]; then
  echo "setup: unpacking ${arm64_packages[*]} (arm64) into $arm64_root" >&2
  debs=$(mktemp -d)
  # (apt-get download writes where it is run; as root it says so on stderr.)
  if (cd "$debs" && apt-get download -qq "${arm64_packages[@]/%/:arm64}" 2>/dev/null); then
    $sudo rm -rf "$arm64_root"
    $sudo mkdir -p "$arm64_root"
    for deb in "$debs"/*.deb; do $sudo dpkg-deb -x "$deb" "$arm64_root"; done
    echo "${arm64_packages[*]}" | $sudo tee "$arm64_root/packages" >/dev/null
  else
    echo "setup: cannot download the arm64 packages: the aarch64 fogger is not built" >&2
  fi
  rm -rf "$debs"
fi
