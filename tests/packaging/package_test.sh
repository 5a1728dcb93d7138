#!/usr/bin/env bash
# tests/packaging/package_test.sh BUILD_DIR SOURCE_DIR   (ctest: packaging)
#
# Builds the Debian packages with CPack from a built tree, checks their contents and
# dependencies, installs them together into a temporary root with dpkg, and runs the installed
# programs: sigil generates a key and signs a copy of tests/data/sample-layout, sigil-verify
# verifies it (and refuses it with another key). Also checks that `cmake --install` places exactly
# what the packages hold and that no install rule lacks a component.
# Exit 0: all checks passed; 1: a check failed (each failure says what); 77: dpkg tools missing.
set -uo pipefail
build=$(cd "${1:?usage: package_test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: package_test.sh BUILD_DIR SOURCE_DIR}" && pwd)

for tool in cpack dpkg dpkg-deb dpkg-query dpkg-shlibdeps file readelf nm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (tools/install-deps.sh)"; exit 77; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || { echo "FAIL: no project version in $build/CMakeCache.txt"; exit 1; }
deb_version=$version-1

# --- build the packages ------------------------------------------------------------------------
if ! (cd "$build" && cpack -G DEB -B "$work/pkgs") >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"
  echo "FAIL: cpack -G DEB"
  exit 1
fi
declare -A DEB
for p in sigil sigil-verify libtrust0 libtrust-dev; do
  DEB[$p]=$work/pkgs/${p}_${deb_version}_$(dpkg --print-architecture).deb
  [ -f "${DEB[$p]}" ] || fail "package $p was not built (expected ${DEB[$p]})"
done
n=$(find "$work/pkgs" -maxdepth 1 -name '*.deb' | wc -l)
[ "$n" -eq 4 ] || fail "expected 4 packages, cpack built $n: $(ls "$work/pkgs")"
[ $failures -eq 0 ] || exit 1

# --- contents ----------------------------------------------------------------------------------
for p in "${!DEB[@]}"; do
  dpkg-deb -c "${DEB[$p]}" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^$' |
    sort >"$work/files.$p"
done
has() { grep -qx -- "$2" "$work/files.$1"; }
has_match() { grep -qE -- "$2" "$work/files.$1"; }
for f in /usr/bin/sigil; do has sigil "$f" || fail "sigil lacks $f"; done
has sigil-verify /usr/bin/sigil-verify || fail "sigil-verify lacks /usr/bin/sigil-verify"
has_match libtrust0 '^/usr/lib/(.*/)?libtrust\.so\.0$' || fail "libtrust0 lacks libtrust.so.0"
has_match libtrust-dev '^/usr/lib/(.*/)?libtrust\.so$' || fail "libtrust-dev lacks libtrust.so"
for f in /usr/include/libtrust/crypto/key_file.h /usr/include/libtrust/verify/verifier.h; do
  has libtrust-dev "$f" || fail "libtrust-dev lacks $f"
done
has_match libtrust-dev '/cmake/libtrust/libtrustConfig\.cmake$' || fail "libtrust-dev lacks libtrustConfig.cmake"
has_match libtrust-dev '/pkgconfig/libtrust\.pc$' || fail "libtrust-dev lacks libtrust.pc"
# The shared library is in exactly one package, and no file is in two: all install together.
for p in sigil sigil-verify libtrust-dev; do
  has_match "$p" 'libtrust\.so\.' && fail "$p holds a copy of libtrust.so.N"
done
dups=$(for p in "${!DEB[@]}"; do
         # directories are shared; files and links are not
         dpkg-deb -c "${DEB[$p]}" | awk '$1 !~ /^d/ { print $6 }'
       done | sort | uniq -d)
[ -z "$dups" ] && pass "no file is in two packages" || fail "files in two packages: $dups"

# Man pages and completions: required once the CLI has them (a `man` or `completion` command).
cli_help=$("$build/bin/sigil" --help 2>&1 || true)
if grep -qE '^\s+(man|completion)\b' <<<"$cli_help"; then
  for prog in sigil sigil-verify; do
    has_match "$prog" "^/usr/share/man/man1/$prog(\\..*)?\\.1(\\.gz)?$" ||
      fail "$prog lacks its man page (/usr/share/man/man1/$prog.1)"
    has "$prog" "/usr/share/bash-completion/completions/$prog" ||
      fail "$prog lacks its bash completion"
    has "$prog" "/usr/share/zsh/vendor-completions/_$prog" || fail "$prog lacks its zsh completion"
  done
else
  echo "note: sigil has no man/completion command yet: man pages and completions not checked"
fi

# --- dependencies ------------------------------------------------------------------------------
depends() { dpkg-deb -f "${DEB[$1]}" Depends; }
names_of() { depends "$1" | tr ',' '\n' | sed 's/^ *//; s/ .*//'; }
for p in sigil-verify libtrust0; do
  for dep in libcurl4 libarchive13 libsodium23 libssl3 zlib1g libzstd1 libstdc++6 libc6; do
    names_of "$p" | grep -qx "$dep" || fail "$p does not depend on $dep: $(depends "$p")"
  done
done
names_of sigil-verify | grep -q '^libtrust' && fail "sigil-verify depends on libtrust: $(depends sigil-verify)"
depends sigil | tr ',' '\n' | grep -qx " *libtrust0 (= $deb_version)" ||
  fail "sigil does not depend on libtrust0 (= $deb_version): $(depends sigil)"
depends libtrust-dev | grep -q "libtrust0 (= $deb_version)" || fail "libtrust-dev does not depend on libtrust0"
shlibs=$(dpkg-deb --ctrl-tarfile "${DEB[libtrust0]}" | tar -xO ./shlibs 2>/dev/null)
[ "$shlibs" = "libtrust 0 libtrust0 (= $deb_version)" ] ||
  fail "libtrust0's shlibs file says '$shlibs' (expected 'libtrust 0 libtrust0 (= $deb_version)')"
# Every dependency is satisfiable here (Debian 12): an installed package of that name and version,
# or a package of ours.
for p in "${!DEB[@]}"; do
  while IFS= read -r clause; do
    clause=${clause# }
    [ -z "$clause" ] && continue
    ok=0
    IFS='|' read -ra alternatives <<<"$clause"
    for alt in "${alternatives[@]}"; do
      alt=$(sed 's/^ *//; s/ *$//' <<<"$alt")
      name=${alt%% *}
      if [[ $alt =~ \((<<|<=|=|>=|>>)\ ([^\)]+)\) ]]; then
        op=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
      else
        op= want=
      fi
      if [ -n "${DEB[$name]:-}" ]; then
        have=$(dpkg-deb -f "${DEB[$name]}" Version)
      else
        have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null)
        [ -n "$have" ] || continue
      fi
      case $op in '') ok=1 ;; '<<') o=lt ;; '<=') o=le ;; '=') o=eq ;; '>=') o=ge ;; '>>') o=gt ;; esac
      [ -n "$op" ] && dpkg --compare-versions "$have" "$o" "$want" && ok=1
      [ $ok = 1 ] && break
    done
    [ $ok = 1 ] || fail "$p: dependency '$clause' cannot be satisfied here"
  done < <(depends "$p" | tr ',' '\n')
done
[ $failures -eq 0 ] && pass "dependencies: $(depends sigil-verify)"

# --- no private-key code in sigil-verify ---------------------------------------------------------
# The build tree's binary has its symbol table: no signing, key encryption or scrypt code.
signing='trust::PrivateKey|trust::sig::sign_image|encrypt_private_key_pem|decrypt_private_key_pem|write_key_pair|import_private_key_pem'
nm -C "$build/bin/sigil-verify" >"$work/nm" 2>&1 || fail "nm $build/bin/sigil-verify"
if grep -E "$signing" "$work/nm" >"$work/nm.signing"; then
  fail "sigil-verify holds private-key code: $(head -5 "$work/nm.signing")"
else
  pass "nm: no private-key code in sigil-verify"
fi
grep -q 'trust::PublicKey::verify' "$work/nm" ||
  fail "nm sees no trust::PublicKey::verify in sigil-verify: the check above would see nothing"
# The packaged (stripped) binary imports no signing primitive from libcrypto or libsodium, and
# loads no libtrust.
dpkg-deb -x "${DEB[sigil-verify]}" "$work/node"
nm -D --undefined-only "$work/node/usr/bin/sigil-verify" >"$work/nmd.all" 2>&1 ||
  fail "nm -D of the packaged sigil-verify"
grep -q ' EVP_DigestVerify' "$work/nmd.all" ||
  fail "the packaged sigil-verify imports no EVP_DigestVerify*: the check below would see nothing"
if grep -E ' (EVP_DigestSign|EVP_PKEY_sign|EVP_PBE_scrypt|crypto_secretbox|crypto_sign_detached|PEM_write)' \
     "$work/nmd.all" >"$work/nmd"; then
  fail "the packaged sigil-verify imports signing functions: $(head -5 "$work/nmd")"
else
  pass "nm -D: the packaged sigil-verify imports no signing function"
fi
readelf -d "$work/node/usr/bin/sigil-verify" | grep -q 'NEEDED.*libtrust' && fail "the packaged sigil-verify needs libtrust.so"

# --- libtrust exports its API and nothing else (libtrust.map) ---------------------------------------
dpkg-deb -x "${DEB[libtrust0]}" "$work/lib"
so=$(find "$work/lib" -name 'libtrust.so.0.*' -type f | head -1)
nm -DC --defined-only "$so" | awk '{ $1 = ""; $2 = ""; sub(/^  /, ""); print }' >"$work/exports"
grep -q '^trust::verify::' "$work/exports" || fail "libtrust.so exports no trust::verify:: symbol"
if grep -vE '^(trust::|typeinfo for trust::|typeinfo name for trust::|vtable for trust::)' \
     "$work/exports" >"$work/exports.other"; then
  fail "libtrust.so exports symbols outside namespace trust: $(head -3 "$work/exports.other")"
else
  pass "libtrust.so exports only trust:: ($(wc -l <"$work/exports") symbols)"
fi

# --- install into a temporary root, with dpkg ------------------------------------------------------
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$work/fakebin"
touch "$root/var/lib/dpkg/status"
# libtrust0's postinst runs ldconfig; run chrootless (the root has no shell), it would touch the
# host's cache: a stand-in records the call instead.
printf '#!/bin/sh\necho "ldconfig DPKG_ROOT=$DPKG_ROOT" >>"%s"\n' "$work/ldconfig.log" >"$work/fakebin/ldconfig"
chmod +x "$work/fakebin/ldconfig"
# The system libraries are on this machine, not in the temporary root's dpkg database: the
# dependencies were checked above.
if PATH=$work/fakebin:$PATH dpkg --root="$root" --log=/dev/null --force-depends \
     --force-script-chrootless --force-not-root -i "${DEB[@]}" >"$work/dpkg.log" 2>&1; then
  pass "dpkg installed all four packages together into a temporary root"
else
  cat "$work/dpkg.log"
  fail "dpkg -i of the four packages into $root"
fi
for p in sigil sigil-verify libtrust0 libtrust-dev; do
  dpkg --root="$root" -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' ||
    fail "dpkg --root does not list $p as installed"
done

# --- the installed programs work -----------------------------------------------------------------
bin=$root/usr/bin
run() { SIGIL_PASSWORD=pkg-test COSIGN_PASSWORD= "$@"; }
for prog in sigil sigil-verify; do
  out=$("$bin/$prog" --version 2>&1) || fail "$prog --version failed: $out"
  grep -q "$version" <<<"$out" || fail "$prog --version does not say $version: $out"
done
# sigil loads the installed libtrust, not the build tree's.
lib=$(LD_DEBUG=libs "$bin/sigil" --version 2>&1 | sed -n 's/.*calling init: \(.*libtrust\.so\.0\)$/\1/p' | head -1)
[ -n "$lib" ] && lib=$(realpath -m -s "$lib")
case $lib in
  "$root"/usr/lib*/libtrust.so.0) pass "installed sigil runs with $lib" ;;
  *) fail "installed sigil does not load libtrust from the root (loaded: '${lib:-none}')" ;;
esac
cp -r "$src/tests/data/sample-layout" "$work/img"
(cd "$work" && run "$bin/sigil" key generate --output-prefix "$work/k" >/dev/null 2>"$work/gen.err") ||
  fail "installed sigil key generate: $(cat "$work/gen.err")"
run "$bin/sigil" sign --key "$work/k.key" "oci:$work/img:latest" >/dev/null 2>"$work/sign.err" ||
  fail "installed sigil sign: $(cat "$work/sign.err")"
if run "$bin/sigil-verify" verify --key "$work/k.pub" "oci:$work/img:latest" >"$work/v.out" 2>"$work/v.err" &&
   grep -q VERIFIED "$work/v.err"; then
  pass "installed sigil-verify verifies what the installed sigil signed"
else
  fail "installed sigil-verify verify: $(cat "$work/v.err")"
fi
run "$bin/sigil-verify" verify --key "$src/tests/data/keys/test-ecdsa-p256.pub" "oci:$work/img:latest" \
  >/dev/null 2>&1
rc=$?
[ $rc -eq 1 ] && pass "installed sigil-verify refuses another key (exit 1)" ||
  fail "installed sigil-verify with another key: exit $rc (expected 1)"

# --- cmake --install places what the packages hold --------------------------------------------------
cmake --install "$build" --prefix "$work/prefix" >/dev/null || fail "cmake --install"
(cd "$work/prefix" && find . ! -type d | sed 's|^\.|/usr|' | sort) >"$work/installed"
cat "$work"/files.* | sort -u >"$work/packaged.all"
# Directories are listed in the packages; compare files and links only.
comm -23 "$work/installed" "$work/packaged.all" >"$work/not-packaged"
[ -s "$work/not-packaged" ] && fail "installed but in no package: $(tr '\n' ' ' <"$work/not-packaged")"
cmake --install "$build" --prefix "$work/unspecified" --component Unspecified >/dev/null
if [ -n "$(find "$work/unspecified" ! -type d 2>/dev/null)" ]; then
  fail "install rules without a component: $(cd "$work/unspecified" && find . ! -type d | tr '\n' ' ')"
else
  pass "every install rule names a component"
fi

if [ $failures -eq 0 ]; then
  echo "packaging: all checks passed"
  exit 0
fi
echo "packaging: $failures check(s) failed"
exit 1
