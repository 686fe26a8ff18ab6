#!/usr/bin/env bash
# Installs the Debian packages a make target needs, only those missing (apt-get, as root).
#   scripts/sysdeps.sh test    packages the test suite needs (chromium for the status-page browser test, prometheus + promtool for the rules and scrape tests)
#   scripts/sysdeps.sh bench   load generators and comparison proxies for `make bench`
set -euo pipefail
case "${1:-test}" in
  test) wanted=(chromium:chromium promtool:prometheus prometheus:prometheus) ;;
  bench) wanted=(wrk:wrk haproxy:haproxy taskset:util-linux) ;;
  *) echo "usage: $0 test|bench" >&2; exit 2 ;;
esac
need=()
for pair in "${wanted[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "sysdeps: missing ${need[*]}; install them with apt-get as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
