#!/usr/bin/env bash
# Copies this repository to the TPU VM and installs its requirements there, keeping the VM's
# TPU-enabled TensorFlow. Runs on your workstation; the second half (--on-vm) runs on the VM.
set -euo pipefail

usage() {
  cat <<EOF
Usage: [VAR=value ...] tpu/setup_vm.sh

Runs on your workstation, from a clone of enas_tf. Ships the committed tree (git archive HEAD:
uncommitted changes are not copied) to ~/\$REMOTE_DIR on the TPU VM, then runs
'tpu/setup_vm.sh --on-vm' there through 'gcloud compute tpus tpu-vm ssh --command', which
installs requirements.txt WITHOUT replacing the VM's TensorFlow (see tpu/README.md) and checks
that TensorFlow still reaches the TPU afterwards. Rerun it after each commit you want on the VM.
Settings (environment):
  TPU_NAME    name of the TPU VM                       (default: enas-tpu)
  ZONE        its zone                                 (default: us-central1-a)
  PROJECT     Google Cloud project (default: gcloud config's project)
  REMOTE_DIR  directory under the VM user's home       (default: enas_tf)
  PYTHON      Python on the VM                         (default: python3)
EOF
}

TPU_NAME="${TPU_NAME:-enas-tpu}"
ZONE="${ZONE:-us-central1-a}"
PROJECT="${PROJECT:-}"
REMOTE_DIR="${REMOTE_DIR:-enas_tf}"
PYTHON="${PYTHON:-python3}"

die() {
  echo "error: $*" >&2
  exit 1
}

# TensorFlow distributions and the TPU runtime library that must stay as the VM has them.
KEEP_FROM_VM="tensorflow tensorflow-cpu tensorflow-intel tensorflow-tpu tf-nightly libtpu libtpu-nightly"

check_tpu() {
  "$PYTHON" -c "import sys
from enas_tf.runtime.strategy import StrategyError, create_strategy
try:
    print('TPU replicas:', create_strategy('local').num_replicas_in_sync)
except StrategyError as error:
    sys.exit(f'error: {error}')"
}

on_vm() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  echo "== $(hostname): $("$PYTHON" --version 2>&1) in $(pwd)"
  local tf_version
  tf_version="$("$PYTHON" -c 'import tensorflow as tf; print(tf.__version__)' 2>/dev/null)" ||
    die "no TensorFlow on this VM. Create it with a TensorFlow TPU software version" \
      "(RUNTIME_VERSION=tpu-vm-tf-...-pjrt in tpu/create_vm.sh; see tpu/README.md)."
  echo "== TensorFlow $tf_version is installed; checking that it reaches the TPU"
  check_tpu || die "TensorFlow $tf_version on this VM cannot use the TPU even before anything" \
    "was installed (see the error above). Recreate the VM with a tpu-vm-tf-...-pjrt version."
  local pinned
  pinned="$(sed -n 's/^tensorflow==//p' requirements.txt)"
  if [[ "$tf_version" != "$pinned" ]]; then
    echo "warning: requirements.txt pins tensorflow==$pinned; this VM keeps its TensorFlow" \
      "$tf_version (a TPU build). enas_tf is tested with $pinned only." >&2
  fi

  local tmp
  tmp="$(mktemp -d)"
  # The pins of TensorFlow and TensorBoard are dropped (the VM's TensorFlow brings its own
  # TensorBoard), and a constraint holds every other package to the VM's TensorFlow version.
  grep -v -E '^(tensorflow|tensorboard)==' requirements.txt >"$tmp/requirements-tpu.txt"
  echo "tensorflow==$tf_version" >"$tmp/constraints.txt"
  echo "== resolving requirements.txt against TensorFlow $tf_version"
  "$PYTHON" -m pip install --quiet --upgrade 'pip>=22.2' # for --dry-run --report
  "$PYTHON" -m pip install --quiet --dry-run --report "$tmp/plan.json" \
    -r "$tmp/requirements-tpu.txt" -c "$tmp/constraints.txt"
  # keras-hub -> tensorflow-text -> `tensorflow`: pip would install the plain PyPI wheel of
  # TensorFlow over the VM's TPU build. Install what pip planned except those, without deps.
  "$PYTHON" - "$tmp/plan.json" "$KEEP_FROM_VM" >"$tmp/install.txt" <<'PY'
import json
import re
import sys

keep = set(sys.argv[2].split())
for item in json.load(open(sys.argv[1]))["install"]:
    name = re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower()
    version = item["metadata"]["version"]
    if name in keep:
        print(f"   not installing {name}=={version}: the VM's TPU build stays", file=sys.stderr)
    else:
        print(f"{name}=={version}")
PY
  if [[ -s "$tmp/install.txt" ]]; then
    echo "== installing $(wc -l <"$tmp/install.txt") packages (--no-deps, as resolved above)"
    "$PYTHON" -m pip install --quiet --no-deps -r "$tmp/install.txt"
  else
    echo "== every requirement is already installed"
  fi
  rm -rf "$tmp"
  echo "== checking the TPU again, now with the requirements installed"
  check_tpu || die "TensorFlow no longer reaches the TPU after installing the requirements." \
    "Compare 'pip list | grep -i -E \"tensorflow|libtpu\"' with a fresh VM."
  echo "== ready: tpu/run.sh (see tpu/README.md)"
}

on_workstation() {
  local repo
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local gcloud_flags=(--zone="$ZONE")
  if [[ -n "$PROJECT" ]]; then
    gcloud_flags+=(--project="$PROJECT")
  fi
  ARCHIVE_DIR="$(mktemp -d)" # global: the EXIT trap runs after this function returns
  trap 'rm -rf "$ARCHIVE_DIR"' EXIT
  git -C "$repo" rev-parse --verify --quiet HEAD > /dev/null \
    || die "$repo is not a git clone with a commit: setup_vm.sh ships the committed tree" \
      "(git archive HEAD). Run it from a clone of enas_tf."
  git -C "$repo" archive --format=tar.gz -o "$ARCHIVE_DIR/enas_tf.tar.gz" HEAD
  local dir python
  dir="$(printf %q "$REMOTE_DIR")"
  python="$(printf %q "$PYTHON")"
  set -x
  gcloud compute tpus tpu-vm scp "$ARCHIVE_DIR/enas_tf.tar.gz" "$TPU_NAME:enas_tf.tar.gz" "${gcloud_flags[@]}"
  gcloud compute tpus tpu-vm ssh "$TPU_NAME" "${gcloud_flags[@]}" --command="set -e
mkdir -p ~/$dir && tar -xzf ~/enas_tf.tar.gz -C ~/$dir && rm ~/enas_tf.tar.gz
PYTHON=$python bash ~/$dir/tpu/setup_vm.sh --on-vm"
}

case "${1:-}" in
  -h | --help) usage ;;
  --on-vm) on_vm ;;
  "") on_workstation ;;
  *)
    usage >&2
    exit 2
    ;;
esac
