#!/usr/bin/env bash
# Creates a Cloud TPU VM for enas_tf. Runs on your workstation (gcloud logged in).
set -euo pipefail

usage() {
  cat <<EOF
Usage: [VAR=value ...] tpu/create_vm.sh

Creates the TPU VM \$TPU_NAME with gcloud. Runs on your workstation. Settings (environment):
  TPU_NAME         name of the TPU VM                       (default: enas-tpu)
  ZONE             zone that has the accelerator type       (default: us-central1-a)
  ACCELERATOR_TYPE single-host slice: v2-8, v3-8, v4-8, ... (default: v3-8)
  RUNTIME_VERSION  TPU software version with TensorFlow     (default: tpu-vm-tf-2.16.1-pjrt)
  PROJECT          Google Cloud project (default: gcloud config's project)
  SPOT             1 for a Spot VM (cheaper, can be preempted; see tpu/README.md) (default: 0)

List what a zone offers:
  gcloud compute tpus tpu-vm accelerator-types list --zone=\$ZONE
  gcloud compute tpus tpu-vm versions list --zone=\$ZONE --filter='version~tpu-vm-tf'
EOF
}
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  usage
  exit 0
fi
if [[ $# -gt 0 ]]; then
  usage >&2
  exit 2
fi

TPU_NAME="${TPU_NAME:-enas-tpu}"
ZONE="${ZONE:-us-central1-a}"
ACCELERATOR_TYPE="${ACCELERATOR_TYPE:-v3-8}"
RUNTIME_VERSION="${RUNTIME_VERSION:-tpu-vm-tf-2.16.1-pjrt}"
PROJECT="${PROJECT:-}"
SPOT="${SPOT:-0}"

flags=(--zone="$ZONE" --accelerator-type="$ACCELERATOR_TYPE" --version="$RUNTIME_VERSION")
if [[ -n "$PROJECT" ]]; then
  flags+=(--project="$PROJECT")
fi
if [[ "$SPOT" == "1" ]]; then
  flags+=(--spot)
fi

set -x
gcloud compute tpus tpu-vm create "$TPU_NAME" "${flags[@]}"
