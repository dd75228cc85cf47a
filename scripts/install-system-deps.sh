#!/usr/bin/env bash
# Debian packages needed to build and run the services: OpenBLAS and cmake so that
# dlib compiles with BLAS (about 5x faster face embeddings than the prebuilt wheel).
set -euo pipefail

needed=(libopenblas-dev liblapack-dev cmake)
missing=()
for package in "${needed[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
echo "installing Debian packages: ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
