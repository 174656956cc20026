#!/usr/bin/env bash
# Builds berth's example base images without any public registry and imports them with
# `berth import`:
#   berth-examples/busybox:latest     Debian's busybox-static with its applet links, /etc/passwd, /etc/group
#   berth-examples/debian-py:bookworm a minimal Debian bookworm (debootstrap) with python3-minimal and redis-server
# Rootfs tarballs are cached in examples/.cache/ (the debootstrap run takes minutes, the import
# seconds). Running it again re-imports nothing when the stored image already has the cached
# tarball as its layer. Needs root (debootstrap, and berth unpacks layers with their owners).
# Environment: BERTH_ROOT (berth's state dir), DEBIAN_MIRROR (default: this machine's apt mirror),
# ONLY=busybox|debian-py to build one image, BERTH_EXAMPLES_CACHE (default examples/.cache).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cache="${BERTH_EXAMPLES_CACHE:-$here/.cache}"
berth=(node "$repo/bin/berth.js")
mkdir -p "$cache"

log() { printf 'build-images: %s\n' "$*" >&2; }

# Temp dirs to remove on exit. debootstrap mounts /proc (and sometimes binds /dev) inside its
# target: unmount whatever is left there first, and never let rm cross into another filesystem.
temp_dirs=()
unmount_under() {
  local mount_point
  while read -r mount_point; do
    umount -l "$mount_point" 2>/dev/null || true
  done < <(awk -v prefix="$1/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r)
}
cleanup() {
  local dir
  for dir in "${temp_dirs[@]}"; do
    unmount_under "$dir"
    rm -rf --one-file-system "$dir"
  done
}
trap cleanup EXIT
die() { log "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and layer ownership need it)"
[ -f "$repo/dist/src/cli/main.js" ] || die "berth is not built; run 'npm run build' in $repo"

# The Debian mirror apt on this machine uses (deb822 .sources first, then sources.list), so the
# script works behind whatever mirror or proxy the machine is set up for.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local file uri
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    uri="$(awk '
      /^[[:space:]]*$/ { if (types ~ /deb/ && suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/ && uris != "") { print uris; exit } types=""; suites=""; uris=""; next }
      /^Types:/ { types=$0 } /^Suites:/ { suites=$0 } /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); split($0, u, /[[:space:]]+/); uris=u[1] }
      END { if (types ~ /deb/ && suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/ && uris != "") print uris }
    ' "$file" | head -n1)"
    if [ -n "$uri" ]; then echo "$uri"; return; fi
  done
  if [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == "bookworm") { print $i; exit } }' /etc/apt/sources.list)"
    if [ -n "$uri" ]; then echo "$uri"; return; fi
  fi
  die "no Debian bookworm mirror found in /etc/apt/sources.list{,.d}; set DEBIAN_MIRROR"
}

# True when `ref` is in berth's store with `tarball` (sha256 of the file) as its only layer.
image_is_current() {
  local ref="$1" tarball="$2" digest
  digest="sha256:$(sha256sum "$tarball" | cut -d' ' -f1)"
  node --input-type=module -e "
    const { ImageStore } = await import('$repo/dist/src/images/store/index.js');
    const store = await ImageStore.open();
    const image = await store.resolve(process.argv[1]).catch(() => undefined);
    process.exit(image && image.layers.length === 1 && image.layers[0].digest === process.argv[2] ? 0 : 1);
  " "$ref" "$digest"
}

# Packs a directory as a reproducible gzip tarball (sorted, numeric owners, fixed mtime).
pack() {
  local dir="$1" out="$2"
  tar --one-file-system --sort=name --numeric-owner --mtime=@0 --xattrs --xattrs-include='security.capability' -C "$dir" -cf - . | gzip -n > "$out.tmp"
  mv "$out.tmp" "$out"
}

import_image() {
  local tarball="$1" ref="$2"; shift 2
  if image_is_current "$ref" "$tarball"; then
    log "$ref is up to date"
    return
  fi
  log "importing $ref"
  "${berth[@]}" import "$@" "$tarball" "$ref" >/dev/null
}

build_busybox() {
  [ -x /bin/busybox ] || die "/bin/busybox not found; apt-get install busybox-static"
  local version tarball tmp
  version="$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null | tr ':+~' '___')"
  tarball="$cache/busybox-${version:-unknown}.tar.gz"
  if [ ! -f "$tarball" ]; then
    log "building busybox rootfs ($version)"
    tmp="$(mktemp -d)"
    temp_dirs+=("$tmp")
    chmod 755 "$tmp" # mktemp makes it 0700, and it becomes the image's /
    mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,var/tmp,run}
    chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
    chmod 700 "$tmp/root"
    install -m 0755 /bin/busybox "$tmp/bin/busybox"
    local applet
    while read -r applet; do
      [ -e "$tmp/$applet" ] || [ -L "$tmp/$applet" ] || ln -s /bin/busybox "$tmp/$applet"
    done < <(/bin/busybox --list-full)
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/usr/sbin:/bin/false' \
      'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' > "$tmp/etc/passwd"
    printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'nogroup:x:65534:' > "$tmp/etc/group"
    pack "$tmp" "$tarball"
  fi
  import_image "$tarball" berth-examples/busybox:latest -c 'CMD ["sh"]' \
    -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' -m 'busybox-static from Debian'
}

build_debian_py() {
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || die "debootstrap not found; apt-get install debootstrap"
  local tarball="$cache/debian-py-bookworm.tar.gz" tmp mirror
  if [ ! -f "$tarball" ]; then
    mirror="$(debian_mirror)"
    log "debootstrap bookworm from $mirror (takes a few minutes; cached afterwards)"
    tmp="$(mktemp -d)"
    temp_dirs+=("$tmp")
    PATH="$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase --include=python3-minimal,redis-server \
      bookworm "$tmp/rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $cache/debootstrap.log"
    unmount_under "$tmp/rootfs"
    # Package caches and logs only make the image bigger; dev nodes come from the runtime.
    rm -rf --one-file-system "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"* "$tmp/rootfs/var/log/"*.log \
      "$tmp/rootfs/debootstrap"
    find "$tmp/rootfs/dev" -xdev -mindepth 1 -delete
    pack "$tmp/rootfs" "$tarball"
  fi
  import_image "$tarball" berth-examples/debian-py:bookworm -c 'CMD ["python3"]' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    -m 'debootstrap --variant=minbase bookworm with python3-minimal and redis-server'
}

case "${ONLY:-all}" in
  busybox) build_busybox ;;
  debian-py) build_debian_py ;;
  all) build_busybox; build_debian_py ;;
  *) die "ONLY must be busybox or debian-py" ;;
esac
log "done"
