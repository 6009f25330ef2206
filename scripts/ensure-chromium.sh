#!/usr/bin/env bash
# ensure-chromium.sh makes sure Debian's chromium package is installed: the
# browser tests (internal/browser, cmd/xtsync/console_browser_test.go) drive
# /usr/bin/chromium headless. When it is missing, it installs it with
#
#   apt-get install -y --no-install-recommends chromium
#
# as root, or through sudo (non-interactive) otherwise, running
# apt-get update first only when apt knows no chromium package. If another
# apt/dpkg is running it waits for its lock (up to 10 minutes). When it
# cannot install, it fails, naming the package and the command.
#
# Used by .ci/run and by make test. Usage: scripts/ensure-chromium.sh
set -euo pipefail

CHROMIUM=/usr/bin/chromium
PKG=chromium

if [ -x "$CHROMIUM" ]; then
	exit 0
fi

fail() {
	echo "ensure-chromium: $*" >&2
	echo "ensure-chromium: the browser tests need Debian's $PKG package ($CHROMIUM); install it with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $PKG" >&2
	exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "$CHROMIUM is missing and there is no apt-get"

if [ "$(id -u)" -eq 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO=(sudo -n)
else
	fail "$CHROMIUM is missing, and installing it needs root or password-less sudo"
fi

# Wait for a concurrent apt-get/dpkg instead of failing on its lock.
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq)
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

start=$(date +%s)
echo "ensure-chromium: $CHROMIUM is missing; installing $PKG" >&2
if ! apt-cache show "$PKG" >/dev/null 2>&1 || [ -z "$(apt-cache policy "$PKG" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}')" ]; then
	"${APT[@]}" update >"$LOG" 2>&1 || { cat "$LOG" >&2; fail "apt-get update failed"; }
fi
"${APT[@]}" install -y --no-install-recommends "$PKG" >"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; fail "apt-get install $PKG failed"; }
[ -x "$CHROMIUM" ] || fail "apt-get installed $PKG but $CHROMIUM is still missing"
echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$PKG") in $(($(date +%s) - start))s" >&2
