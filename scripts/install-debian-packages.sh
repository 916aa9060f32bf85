#!/usr/bin/env bash
# Install the Debian packages the integration tests run for real, if missing.
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages try to start their daemons; without systemd nothing runs, but stop
# anything that did start so tests own their ports.
for daemon in prometheus prometheus-pushgateway nginx; do pkill -x "$daemon" 2>/dev/null || true; done
