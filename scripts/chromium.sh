#!/usr/bin/env bash
# Prints the path of a Chromium that runs headless, for the end-to-end
# tests that drive a real browser (test/browser_test.go, through chromedp):
#   1. $CHROMIUM, when set;
#   2. chromium on the PATH (Debian's package: /usr/bin/chromium);
#   3. else installs Debian's chromium package (as root: apt-get update, then
#      apt-get install --no-install-recommends chromium) and prints its path.
#      Measured on a 2-core Debian 12 machine: 21 s in all, 49 packages,
#      about 115 MB downloaded for chromium and chromium-common, 350 MB on disk.
# A browser's own download (npx playwright install, puppeteer's) cannot
# reach its servers from here: Debian's package is the one way in.
# Progress and errors go to stderr; stdout carries only the path.
set -euo pipefail

say() { printf 'chromium.sh: %s\n' "$*" >&2; }

# usable BINARY: does BINARY start and report a Chromium version?
usable() {
	local v
	v=$("$1" --version 2>/dev/null || true)
	[[ $v == Chromium* || $v == *Chrome* ]]
}

if [[ -n "${CHROMIUM:-}" ]]; then
	if [[ ! -x "$CHROMIUM" ]] || ! usable "$CHROMIUM"; then
		say "CHROMIUM=$CHROMIUM is not a Chromium that answers --version; unset CHROMIUM to use or install Debian's chromium"
		exit 1
	fi
	echo "$CHROMIUM"
	exit 0
fi

if path=$(command -v chromium) && usable "$path"; then
	echo "$path"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	say "Chromium is not installed. Install Debian's package, then run this again:"
	say "    sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium"
	say "(or set CHROMIUM to the path of another Chromium or Chrome)"
	exit 1
fi
say "installing chromium from Debian packages"
start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
path=$(command -v chromium || true)
if [[ -z $path ]] || ! usable "$path"; then
	say "apt-get installed chromium, but no working chromium is on the PATH"
	exit 1
fi
say "installed $("$path" --version) in $((SECONDS - start))s"
echo "$path"
