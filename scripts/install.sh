#!/bin/sh
# Installs `orch`: picks the release archive for this machine (OS, CPU, AVX2), verifies its
# SHA-256 against the release's SHA256SUMS, checks that the binary runs, and puts it in
# ~/.local/bin (or --dir) atomically. Nothing is installed when any step fails.
#
#   sh install.sh [--from DIR_OR_URL] [--dir DIR] [--version V]
#   sh dist/release/install.sh          (a release folder installs from itself)
#   curl -fsSL <release-url>/install.sh | sh -s -- --dir /usr/local/bin
#
# POSIX sh only (macOS /bin/sh, Debian's dash): no arrays, no [[ ]], no local, no pipefail.
#
# Environment, for tests and unusual set-ups (each replaces one detection):
#   ORCH_RELEASE_URL      release location used when --from is not given
#   ORCH_INSTALL_OS       instead of `uname -s`    (Linux, Darwin)
#   ORCH_INSTALL_ARCH     instead of `uname -m`    (x86_64, amd64, aarch64, arm64)
#   ORCH_INSTALL_AVX2     1 or 0, instead of /proc/cpuinfo or sysctl (x64 only)
#   ORCH_INSTALL_ROSETTA  1 or 0, instead of sysctl.proc_translated (macOS x64 only)
set -eu

# ---------------------------------------------------------------------------------------------
# DEFAULT RELEASE LOCATION: the releases page of the published repository. EDIT THIS when the
# project is published (or set ORCH_RELEASE_URL). Archives and SHA256SUMS are fetched from
# "$ORCH_RELEASES/latest/download/" or, with --version V, "$ORCH_RELEASES/download/vV/".
ORCH_RELEASES="https://github.com/OWNER/orch/releases"
# ---------------------------------------------------------------------------------------------

prog="orch install"
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage_die() { printf '%s: %s\n' "$prog" "$*" >&2; printf 'usage: sh install.sh [--from DIR_OR_URL] [--dir DIR] [--version V]\n' >&2; exit 2; }

usage() {
  cat <<'EOF'
usage: sh install.sh [--from DIR_OR_URL] [--dir DIR] [--version V]

Installs the orch release build for this machine.
  --from DIR_OR_URL  release folder or http(s) URL holding SHA256SUMS and orch-*.tar.gz
                     (default: the folder this script is in when it holds a
                     release, else $ORCH_RELEASE_URL, else the published releases)
  --dir DIR          where to put `orch` (default: ~/.local/bin)
  --version V        install version V (default: the one the release lists)
  -h, --help         this help
EOF
}

from=""
dir=""
version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from|--dir|--version)
      [ $# -ge 2 ] || usage_die "$1 needs a value"
      case "$1" in
        --from) from=$2 ;;
        --dir) dir=$2 ;;
        --version) version=$2 ;;
      esac
      shift 2
      ;;
    --from=*) from=${1#--from=}; shift ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    --version=*) version=${1#--version=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_die "unknown argument: $1" ;;
  esac
done

if [ -n "$version" ]; then
  version=${version#v}
  case "$version" in
    ""|*[!0-9A-Za-z.+-]*|[!0-9]*) usage_die "invalid --version: $version (expected e.g. 0.1.0)" ;;
  esac
fi
for flag in "${ORCH_INSTALL_AVX2:-0}" "${ORCH_INSTALL_ROSETTA:-0}"; do
  case "$flag" in 0|1) ;; *) usage_die "ORCH_INSTALL_AVX2 and ORCH_INSTALL_ROSETTA take 1 or 0" ;; esac
done

# ---- which build: <os>-<arch>[-baseline] ----------------------------------------------------
os_name=${ORCH_INSTALL_OS:-$(uname -s)}
case "$os_name" in
  Linux|linux) os=linux ;;
  Darwin|darwin) os=darwin ;;
  *) die "unsupported operating system: $os_name (release builds exist for Linux and macOS)" ;;
esac

cpu=${ORCH_INSTALL_ARCH:-$(uname -m)}
case "$cpu" in
  x86_64|amd64|x64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) die "unsupported CPU architecture: $cpu (release builds exist for x86_64 and arm64)" ;;
esac

# A shell running under Rosetta 2 on Apple silicon reports x86_64: the native build is better.
if [ "$os" = darwin ] && [ "$arch" = x64 ]; then
  rosetta=${ORCH_INSTALL_ROSETTA:-$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)}
  if [ "$rosetta" = 1 ]; then
    arch=arm64
    say "running under Rosetta 2: choosing the native arm64 build"
  fi
fi

platform="$os-$arch"
# The default x64 builds need AVX2 (Haswell, 2013, and later); other x64 CPUs get -baseline.
if [ "$arch" = x64 ]; then
  avx2=${ORCH_INSTALL_AVX2:-}
  if [ -z "$avx2" ]; then
    avx2=0
    if [ "$os" = linux ]; then
      if grep -qi avx2 /proc/cpuinfo 2>/dev/null; then avx2=1; fi
    else
      if sysctl -n machdep.cpu.leaf7_features 2>/dev/null | grep -qi avx2; then avx2=1; fi
    fi
  fi
  if [ "$avx2" = 0 ]; then
    platform="$platform-baseline"
    say "CPU without AVX2: choosing the baseline build"
  fi
fi

# ---- where from, where to -------------------------------------------------------------------
# Run from inside a release folder (`sh dist/release/install.sh`), that folder is the source.
# (Only a script named install.sh: piped into `sh`, $0 is the shell and says nothing.)
if [ -z "$from" ] && [ -z "${ORCH_RELEASE_URL:-}" ]; then
  case "$0" in
    *install.sh) here=$(dirname -- "$0"); if [ -f "$here/SHA256SUMS" ]; then from=$here; fi ;;
  esac
fi
if [ -z "$from" ]; then
  from=${ORCH_RELEASE_URL:-}
  if [ -z "$from" ]; then
    if [ -n "$version" ]; then from="$ORCH_RELEASES/download/v$version"; else from="$ORCH_RELEASES/latest/download"; fi
  fi
fi
while :; do case "$from" in */) from=${from%/} ;; *) break ;; esac; done
case "$from" in
  http://*|https://*) remote=1 ;;
  file://*) remote=0; from=${from#file://} ;;
  *) remote=0 ;;
esac
if [ "$remote" = 0 ] && [ ! -d "$from" ]; then
  die "release folder not found: $from"
fi

if [ -z "$dir" ]; then
  [ -n "${HOME:-}" ] || die "HOME is not set; pass --dir DIR"
  dir="$HOME/.local/bin"
fi

if [ "$remote" = 1 ]; then
  if command -v curl >/dev/null 2>&1; then downloader=curl
  elif command -v wget >/dev/null 2>&1; then downloader=wget
  else die "need curl or wget to download from $from"
  fi
fi
if command -v sha256sum >/dev/null 2>&1; then sha_tool=sha256sum
elif command -v shasum >/dev/null 2>&1; then sha_tool=shasum
elif command -v openssl >/dev/null 2>&1; then sha_tool=openssl
else die "need sha256sum, shasum or openssl to verify the download"
fi

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t orch-install)
if [ -z "$tmp" ] || [ ! -d "$tmp" ]; then die "could not create a temporary folder"; fi
staged=""
cleanup() {
  rm -rf "$tmp"
  if [ -n "$staged" ]; then rm -f "$staged"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fetch NAME DEST: one file of the release, from the folder or the URL.
fetch() {
  if [ "$remote" = 1 ]; then
    if [ "$downloader" = curl ]; then
      curl -fsSL --retry 2 -o "$2" "$from/$1" 2>"$tmp/fetch.err" || die "could not download $from/$1 ($(head -n 1 "$tmp/fetch.err"))"
    else
      wget -q -O "$2" "$from/$1" 2>"$tmp/fetch.err" || die "could not download $from/$1"
    fi
  else
    [ -f "$from/$1" ] || die "$1 not found in $from"
    cp "$from/$1" "$2" || die "could not read $from/$1"
  fi
}

sha256_of() {
  case "$sha_tool" in
    sha256sum) sha256sum "$1" ;;
    shasum) shasum -a 256 "$1" ;;
    openssl) openssl dgst -sha256 -r "$1" ;;
  esac | awk '{ print tolower($1) }'
}

# ---- pick the archive from SHA256SUMS ---------------------------------------------------------
fetch SHA256SUMS "$tmp/SHA256SUMS"
# "<sha256>  <name>" (or "<sha256> *<name>"); names of this platform, any version.
awk -v suffix="-$platform.tar.gz" '
  { name = $2; sub(/^\*/, "", name) }
  index(name, "orch-") == 1 && length(name) > length(suffix) + 5 &&
    substr(name, length(name) - length(suffix) + 1) == suffix { print tolower($1), name }
' "$tmp/SHA256SUMS" >"$tmp/candidates"

if [ -n "$version" ]; then
  name="orch-$version-$platform.tar.gz"
  expected=$(awk -v n="$name" '$2 == n { print $1; exit }' "$tmp/candidates")
  [ -n "$expected" ] || die "no $name in $from/SHA256SUMS"
else
  count=$(wc -l <"$tmp/candidates" | tr -d ' ')
  case "$count" in
    0) die "no $platform build in $from/SHA256SUMS" ;;
    1) ;;
    *) die "$from/SHA256SUMS lists several versions for $platform; choose one with --version" ;;
  esac
  read -r expected name <"$tmp/candidates"
  version=${name#orch-}
  version=${version%"-$platform.tar.gz"}
fi
case "$expected" in
  *[!0-9a-f]*) die "malformed checksum for $name in $from/SHA256SUMS" ;;
esac
[ ${#expected} -eq 64 ] || die "malformed checksum for $name in $from/SHA256SUMS"

say "$platform: $name from $from"
fetch "$name" "$tmp/$name"
actual=$(sha256_of "$tmp/$name")
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $name: expected $expected, got ${actual:-nothing}; nothing installed"
fi

# ---- unpack and check that it runs here ---------------------------------------------------------
mkdir "$tmp/x"
tar -xzf "$tmp/$name" -C "$tmp/x" 2>"$tmp/tar.err" || die "could not unpack $name ($(head -n 1 "$tmp/tar.err"))"
bin="$tmp/x/orch-$version-$platform/orch"
[ -f "$bin" ] || die "$name holds no orch-$version-$platform/orch; nothing installed"
chmod 755 "$bin"
if ! reported=$("$bin" --version 2>&1); then
  die "the $platform build does not run on this machine ($(printf '%s\n' "$reported" | head -n 1)); nothing installed"
fi
if [ "$reported" != "orch $version" ]; then
  die "$name reports \"$reported\", expected \"orch $version\"; nothing installed"
fi

# ---- install atomically: copy beside the target, then rename over it ----------------------------
mkdir -p "$dir" 2>/dev/null || die "could not create $dir"
dir=$(cd "$dir" && pwd) || die "could not enter $dir"
staged="$dir/.orch.install.$$"
cp "$bin" "$staged" 2>/dev/null || die "could not write to $dir"
chmod 755 "$staged"
mv -f "$staged" "$dir/orch" || die "could not replace $dir/orch"
staged=""

printf 'installed %s to %s\n' "$("$dir/orch" --version)" "$dir/orch"
case ":${PATH:-}:" in
  *":$dir:"*|*":$dir/:"*)
    found=$(command -v orch 2>/dev/null || true)
    if [ -n "$found" ] && [ "$found" != "$dir/orch" ]; then
      printf 'note: %s comes before %s on PATH\n' "$found" "$dir/orch"
    fi
    ;;
  *)
    printf '%s is not on your PATH; add this line to your shell profile (~/.profile, ~/.zshrc):\n' "$dir"
    # shellcheck disable=SC2016 # a literal $PATH, for the user to paste
    printf '  export PATH="%s:$PATH"\n' "$dir"
    ;;
esac
