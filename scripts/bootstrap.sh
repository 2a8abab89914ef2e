#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks to run picluster, then make the venv.
# Safe to rerun: it installs only what is missing. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(
  etcd-server etcd-client                         # the real etcd, peer in tests and benchmarks
  containerd runc containernetworking-plugins     # the container runtime on every (simulated) Pi
  nftables iptables iproute2 busybox-static       # netfilter (portmap CNI uses iptables-nft), netns, images
  prometheus openssh-server                       # monitoring and provisioning peers
  curl procps psmisc util-linux ca-certificates
  python3 python3-venv python3-pip
)

missing=()
for pkg in "${DEBS[@]}"; do
  [[ "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})) || [[ "${PICLUSTER_APT_UPDATE:-}" == 1 ]]; then
  echo "==> apt-get install ${missing[*]:-(refresh)}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ((${#missing[@]})); then
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# Stock kubectl (the compatibility tests drive it) is not in Debian 12: take it from the
# Kubernetes project's own apt repository, for the minor version the API serves.
KUBECTL_MINOR=v1.32
install_kubectl() {  # each step must succeed (set -e does not apply inside an if)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends gpg >/dev/null &&
  install -d -m 0755 /etc/apt/keyrings &&
  curl -fsSL "https://pkgs.k8s.io/core:/stable:/$KUBECTL_MINOR/deb/Release.key" \
    | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg &&
  chmod 0644 /etc/apt/keyrings/kubernetes-apt-keyring.gpg &&
  echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/$KUBECTL_MINOR/deb/ /" \
    > /etc/apt/sources.list.d/kubernetes.list &&
  apt-get update -qq &&
  apt-get install -y -qq --no-install-recommends kubectl >/dev/null
}
if ! command -v kubectl >/dev/null; then
  echo "==> kubectl $KUBECTL_MINOR from pkgs.k8s.io"
  # picluster itself does not need kubectl; without it the kubectl compatibility tests fail.
  if ! install_kubectl; then
    rm -f /etc/apt/sources.list.d/kubernetes.list
    echo "warning: could not install kubectl from pkgs.k8s.io; install kubectl $KUBECTL_MINOR yourself" >&2
  fi
fi

# A Python >= 3.11 for the venv: the one on PATH when it is new enough, else Debian's.
PY=${PYTHON:-}
if [[ -z "$PY" ]]; then
  for cand in python3.12 python3.11 python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi

stamp=.venv/.picluster-installed
# A venv whose interpreter is gone is made again; one a failed run left without pip, repaired.
if ! .venv/bin/python -c '' >/dev/null 2>&1; then
  echo "==> creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
elif ! .venv/bin/python -c 'import pip' >/dev/null 2>&1; then
  echo "==> repairing .venv with $PY"
  "$PY" -m venv .venv
  rm -f "$stamp"
fi
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  echo "==> pip install -e .[test]"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
