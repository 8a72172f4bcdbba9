#!/usr/bin/env bash
# Debian packages the test suite needs; idempotent, quick when everything is there.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Dovecot: the email tests poll a real IMAP server they start on loopback.
[ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
# openssl: the IMAPS tests make a throwaway certificate for that server.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# npm: the browser tests' accessibility checker (axe-core) comes from the npm registry.
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
