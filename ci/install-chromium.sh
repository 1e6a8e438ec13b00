#!/usr/bin/env bash
# Makes sure Chromium and its chromedriver exist, for the chat page's browser test: installs the
# distribution's packages (chromium, chromium-driver) with apt-get where either is missing.
# Needs root (or sudo) on Debian or Ubuntu.
set -uo pipefail
found() { for f in "$@"; do [ -x "$f" ] && return 0; done; return 1; }
if found /usr/bin/chromium /usr/bin/chromium-browser /usr/lib/chromium/chromium \
   && found /usr/bin/chromedriver /usr/lib/chromium/chromedriver; then
  exit 0
fi
command -v apt-get >/dev/null || { echo "install-chromium: no apt-get here; install Chromium and its chromedriver by hand (or name them with -Dhearth.chromium and -Dhearth.chromedriver)" >&2; exit 1; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || { echo "install-chromium: needs root or sudo without a password: run 'apt-get install chromium chromium-driver' as root" >&2; exit 1; }
  SUDO="sudo -n"
fi
echo "install-chromium: installing chromium and chromium-driver (apt-get update first)..." >&2
$SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >&2
