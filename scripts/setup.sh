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

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
