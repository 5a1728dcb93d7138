#!/bin/sh
# deploy/kubernetes/image-rootfs.sh BINARY ROOTFS UID
#
# Assembles the root file system of sigil's image (the Dockerfile's last stage copies it into an
# empty image): BINARY at /usr/bin, the shared libraries it needs, and nothing to run but it (no
# shell, no package manager). Run on Debian 12 with BINARY installed (the sigil-verify package):
#   - the libraries the loader needs (ldd), and those libtrust opens on first use (dlopen: the
#     sonames built into BINARY, lib*.so.N, that the loader's cache knows, e.g. libcurl.so.4),
#     with everything they need in turn; each path with its chain of symbolic links, under the
#     same merged /usr layout as Debian 12 (/lib -> usr/lib);
#   - the copyright files of the Debian packages those come from;
#   - the CA certificates (/etc/ssl/certs/ca-certificates.crt, for registry TLS), OpenSSL's
#     configuration, /etc/passwd and /etc/group with user and group `sigil` = UID, a
#     nsswitch.conf, and /tmp (1777).
# tests/deploy/check_manifests.py runs it on the build machine and runs BINARY inside (chroot).
set -eu
bin=${1:?usage: image-rootfs.sh BINARY ROOTFS UID}
root=${2:?usage: image-rootfs.sh BINARY ROOTFS UID}
uid=${3:?usage: image-rootfs.sh BINARY ROOTFS UID}
case $uid in '' | *[!0-9]*) echo "image-rootfs: UID must be a number" >&2; exit 2 ;; esac
[ -x "$bin" ] || { echo "image-rootfs: $bin is not executable" >&2; exit 1; }
[ ! -e "$root" ] || [ -z "$(ls -A "$root")" ] || { echo "image-rootfs: $root is not empty" >&2; exit 1; }

mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
# Debian 12's merged /usr: the top-level directories that are links stay links.
for d in /bin /sbin /lib /lib32 /lib64 /libx32; do
  if [ -L "$d" ]; then
    target=$(readlink "$d")
    mkdir -p "$root/${target#/}"
    ln -s "$target" "$root$d"
  fi
done

# copy PATH: PATH (following and recreating each symbolic link on the way) into ROOTFS.
copy() {
  p=$1
  while [ -L "$p" ]; do
    cp -P --parents "$p" "$root"
    t=$(readlink "$p")
    case $t in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
  done
  cp -L --parents "$p" "$root"
  echo "$p" >>"$root/.files"
}
# needs FILE: the absolute paths of the libraries FILE loads (the loader included); fails on any
# library not found.
needs() {
  out=$(ldd "$1") || { echo "image-rootfs: ldd $1 failed" >&2; exit 1; }
  if echo "$out" | grep -q 'not found'; then
    echo "image-rootfs: $1: $(echo "$out" | grep 'not found')" >&2
    exit 1
  fi
  echo "$out" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

: >"$root/.files"
cp -L "$bin" "$root/usr/bin/"
echo "$bin" >>"$root/.files"
libs=$(needs "$bin")
for soname in $(grep -aoE 'lib[a-z0-9_+-]+\.so\.[0-9]+' "$bin" | sort -u); do
  path=$(ldconfig -p | awk -v s="$soname" '$1 == s && $NF ~ /^\// { print $NF; exit }')
  [ -n "$path" ] || continue
  libs="$libs
$path
$(needs "$path")"
done
for lib in $(echo "$libs" | sort -u); do copy "$lib"; done
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then copy /etc/ssl/certs/ca-certificates.crt; fi
if [ -e /usr/lib/ssl/openssl.cnf ]; then copy /usr/lib/ssl/openssl.cnf; fi

# The Debian packages the files come from: their copyright notices go along.
# (Each path as it was found and as it resolves: dpkg knows one of the two under merged /usr.)
for f in $(cat "$root/.files"); do echo "$f"; readlink -f "$f"; done | sort -u >"$root/.paths"
# shellcheck disable=SC2046
{ dpkg-query -S $(cat "$root/.paths") 2>/dev/null || true; } |
  cut -d: -f1 | tr ',' '\n' | sed 's/^ *//' | sort -u | while read -r pkg; do
  pkg=${pkg%%:*}
  if [ -f "/usr/share/doc/$pkg/copyright" ]; then cp --parents "/usr/share/doc/$pkg/copyright" "$root"; fi
done
rm -f "$root/.files" "$root/.paths"

cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/usr/sbin/nologin
sigil:x:$uid:$uid:sigil:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<EOF
root:x:0:
sigil:x:$uid:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf" "$root/etc/hosts"
