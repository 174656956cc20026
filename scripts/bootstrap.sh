#!/usr/bin/env bash
# Installs what berth and its tests need on a fresh Debian 12 machine, then the npm packages
# and the native runtime (built by `npm ci`). Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# busybox-static and debootstrap: offline base images; docker-registry + apache2-utils
# (htpasswd): the real registry tests push to and pull from; zstd: zstd layers; iproute2 and
# nftables: networks (bridges, namespaces, published ports as kernel NAT); util-linux
# (script): tests that drive a real pty; runc and crun: conformance tests run the same bundles
# under them; curl: examples/run.sh asks the example app.
packages=(busybox-static debootstrap docker-registry apache2-utils openssl attr zstd iproute2 nftables util-linux runc crun python3 curl)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
# Compile the TypeScript so `bin/berth.js` works right away (npm test compiles again).
npm run -s build
