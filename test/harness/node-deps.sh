#!/usr/bin/env bash
# Installs, from Debian, what the real node needs (containerd, runc, CNI plugins, iptables for the
# pods' route to the API server, busybox-static for the workload image, gcc for the pause image).
# Skipped when present; needs root and apt-get.
# Progress on stderr. Exit 0: ready. Exit 2: this machine cannot have a real node (why, on stdout).
set -euo pipefail
log() { echo "[node-deps] $*" >&2; }
pkgs=(containerd runc containernetworking-plugins iptables busybox-static gcc libc6-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing ${missing[*]}, and installing needs root and apt-get"
  exit 2
fi
# Two runs on a fresh machine (tests and demo at once) must not race for dpkg's lock.
cache=${HOOKGATE_CACHE:-$HOME/.cache/hookgate}
mkdir -p "$cache"
exec 9>"$cache/.node-deps.lock"
flock 9
log "installing ${missing[*]} from Debian (first run only)"
apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
log "installed"
