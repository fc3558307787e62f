#!/usr/bin/env bash
# The demo: the real test IdP (node oidc-provider) on 127.0.0.1, then
# `dcrctl bootstrap` twice (register, then the one-GET no-change path) and
# `dcrctl status`; on a terminal it ends in the TUI on that client (press ?
# for the keys, q to quit). Files go to a temporary folder; the IdP stops at
# the end.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
idp_log="$work/idp.log"
(cd test/idp && PORT=0 IDP_IAT=demo-initial-access-token IDP_ADMIN_TOKEN=demo-bootstrap-admin-token exec node server.mjs) >"$idp_log" 2>&1 &
idp_pid=$!
trap 'kill $idp_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  issuer=$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$idp_log")
  [ -n "$issuer" ] && break
  sleep 0.1
done
[ -n "${issuer:-}" ] || { echo "test IdP did not start:"; cat "$idp_log"; exit 1; }
echo "test IdP (oidc-provider) at $issuer; files in $work"

export IDP_BASE_URL="$issuer"
export DCR_IAT=demo-initial-access-token
export BOOTSTRAP_ADMIN_TOKEN=demo-bootstrap-admin-token
export DCRCTL_IDP_PRESET=oidc-provider
export DCRCTL_ADMIN_RAT_URL="$issuer/admin/clients/{client_id}/registration-access-token"
export DCR_REDIRECT_URIS="https://bff.example.test/callback"
export DCR_CLIENT_PROFILE=bff
export BFF_JWT_SIGNING_KEY="$work/signing-key.pem"
export BFF_KID=bff-demo-1
export BFF_CLIENT_CRED_PATH="$work/client.json"

echo; echo "\$ dcrctl bootstrap"
bin/dcrctl bootstrap --log-format text
echo; echo "\$ dcrctl bootstrap   # again: one GET, nothing to change"
bin/dcrctl bootstrap --log-format text
echo; echo "\$ dcrctl status"
bin/dcrctl status
if [ -t 0 ] && [ -t 1 ] && [ -z "${DCRCTL_DEMO_NO_TUI:-}" ]; then
  echo; echo "\$ dcrctl tui   # press ? for every key, r to rotate (a plan is shown first), q to quit"
  sleep 2
  bin/dcrctl tui
fi
