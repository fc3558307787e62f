#!/usr/bin/env bash
# Installs Debian's glewlwyd for the interop tests without letting its
# post-install script start the system service (it would listen on
# 0.0.0.0:4593): a policy-rc.d that exits 101 forbids service starts during
# the install (Debian policy, invoke-rc.d). The tests start their own
# instance on 127.0.0.1 with a throw-away sqlite database.
set -euo pipefail
command -v glewlwyd >/dev/null && command -v sqlite3 >/dev/null && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
policy=/usr/sbin/policy-rc.d
had_policy=""
if [ -e "$policy" ]; then had_policy=1; $SUDO cp -p "$policy" "$policy.dcrctl-saved"; fi
restore() {
  if [ -n "$had_policy" ]; then $SUDO mv "$policy.dcrctl-saved" "$policy"; else $SUDO rm -f "$policy"; fi
}
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
$SUDO chmod 755 "$policy"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends glewlwyd sqlite3 >/dev/null
# Belt and braces: if a service manager started it anyway, stop it.
if command -v systemctl >/dev/null && systemctl is-active --quiet glewlwyd 2>/dev/null; then $SUDO systemctl stop glewlwyd || true; fi
pkill -x glewlwyd 2>/dev/null || true
# Nothing of glewlwyd's may listen beyond loopback after the install.
if command -v ss >/dev/null && ss -ltnpH 2>/dev/null | grep glewlwyd | awk '$4 !~ /^(127\.|\[::1\])/' | grep -q .; then
  echo "install-glewlwyd: glewlwyd listens beyond loopback after the install:" >&2
  ss -ltnp | grep glewlwyd >&2
  exit 1
fi
