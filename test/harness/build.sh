#!/usr/bin/env bash
# Builds the local control plane from the Go module proxy (no Docker, no downloads of prebuilt
# binaries). Binaries are cached per version under $HOOKGATE_CACHE (default ~/.cache/hookgate), so
# only the first run on a machine pays for the build. Prints the bin directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache=${HOOKGATE_CACHE:-$HOME/.cache/hookgate}
bin="$cache/bin"
mkdir -p "$bin" "$cache/build"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
log() { echo "[cluster-build] $*" >&2; }
# Two runs on a fresh machine (tests and demo at once) must not build over each other.
exec 9>"$cache/.lock"
flock 9

stamp_ok() { [ -f "$bin/.$1.version" ] && [ "$(cat "$bin/.$1.version")" = "$2" ]; }
stamp() { echo "$2" >"$bin/.$1.version"; }

build_k8s() {
  stamp_ok kubernetes "$K8S_VERSION" && return
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $K8S_VERSION (first run only; ~15 min on 2 cores)"
  local d="$cache/build/kubernetes-$K8S_VERSION"
  mkdir -p "$d" && cd "$d"
  local staging="v0.${K8S_VERSION#v1.}"
  go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
  local mod
  mod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
  {
    echo "module hookgate.local/k8s"
    echo "go $(awk '/^go /{print $2; exit}' "$mod")"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    # kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging; map each
    # to its published version instead.
    awk -v s="$staging" '$1 ~ /^k8s.io\// && $2 == "v0.0.0" {print "replace " $1 " => " $1 " " s}' "$mod"
  } >go.mod
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  local pkgs=()
  # Pin the version: a bare `go get <pkg>` means @upgrade and would move kubernetes to the latest
  # release, whose staging modules (v0.0.0) do not match the replaces above.
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
  go get "${pkgs[@]}" >&2
  for c in "${cmds[@]}"; do go_build_k8s "$c"; done
  stamp kubernetes "$K8S_VERSION"
}

go_build_k8s() { # cmd, in the kubernetes build module
  local minor=${K8S_VERSION#v1.} ld=""
  minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "  go build $1"
  go build -trimpath -ldflags "-s -w$ld" -o "$bin/$1" "k8s.io/kubernetes/cmd/$1"
}

# The real node's kubelet: same module and version as the control plane, its own stamp so that
# machines which built the control plane before pay only for this one binary.
build_kubelet() {
  stamp_ok kubelet "$K8S_VERSION" && return
  log "building kubelet $K8S_VERSION (first run only; ~1 min with the control plane built)"
  cd "$cache/build/kubernetes-$K8S_VERSION"
  go get "k8s.io/kubernetes/cmd/kubelet@$K8S_VERSION" >&2
  go_build_k8s kubelet
  stamp kubelet "$K8S_VERSION"
}

build_etcd() {
  stamp_ok etcd "$ETCD_VERSION" && return
  log "building etcd $ETCD_VERSION"
  local d="$cache/build/etcd-$ETCD_VERSION"
  mkdir -p "$d" && cd "$d"
  # etcd's own main module has replace directives, so `go install` cannot build it; a tiny module
  # calling etcdmain.Main can.
  cat >main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  printf 'module hookgate.local/etcd\n\ngo 1.24\n' >go.mod
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$bin/etcd" .
  stamp etcd "$ETCD_VERSION"
}

build_install() { # name version package
  stamp_ok "$1" "$2" && return
  log "building $1 $2"
  GOBIN="$bin" go install -trimpath -ldflags "-s -w ${4:-}" "$3@$2"
  stamp "$1" "$2"
}

# hookgate's own small Go programs (test/harness/tools/<name>: a main package and a go.mod pinning
# its libraries), rebuilt when their sources change; built to a temp file and renamed into the
# shared cache, so a reader never sees half a binary.
build_tool() {
  local src="$here/tools/$1" version
  version=$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -c1-16)
  stamp_ok "$1" "$version" && return
  log "building $1 ($version)"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$bin/.$1.tmp" .)
  mv -f "$bin/.$1.tmp" "$bin/$1"
  stamp "$1" "$version"
}

build_etcd
build_install kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
build_install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
build_k8s
build_kubelet
build_tool argocd-lua # Argo CD's Lua engine (gopher-lua) for deploy/argocd
build_tool kstatus    # sigs.k8s.io/cli-utils kstatus, as Flux computes health
log "control plane binaries ready in $bin"
echo "$bin"
