#!/usr/bin/env bash
# TensorBoard of the runs on the TPU VM, in your workstation's browser through an ssh tunnel.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: [VAR=value ...] tpu/tensorboard.sh

Runs on your workstation. Starts TensorBoard on the TPU VM (python3 -m tensorboard.main) and
forwards its port over 'gcloud compute tpus tpu-vm ssh', so http://localhost:\$PORT shows it
until you press Ctrl-C. TensorBoard reads gs:// paths too (the BACKUP copies of tpu/run.sh).
Settings (environment):
  TPU_NAME  name of the TPU VM                          (default: enas-tpu)
  ZONE      its zone                                    (default: us-central1-a)
  PROJECT   Google Cloud project (default: gcloud config's project)
  LOGDIR    on the VM, relative to its home, or gs://... (default: enas_runs)
  PORT      port on both ends                           (default: 6006)
USAGE
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
PROJECT="${PROJECT:-}"
LOGDIR="${LOGDIR:-enas_runs}"
PORT="${PORT:-6006}"

flags=(--zone="$ZONE")
if [[ -n "$PROJECT" ]]; then
  flags+=(--project="$PROJECT")
fi
echo "TensorBoard of $TPU_NAME:$LOGDIR at http://localhost:$PORT (Ctrl-C to stop)"
set -x
gcloud compute tpus tpu-vm ssh "$TPU_NAME" "${flags[@]}" \
  --ssh-flag="-L $PORT:localhost:$PORT" \
  --command="python3 -m tensorboard.main --logdir=$(printf %q "$LOGDIR") --port=$PORT"
