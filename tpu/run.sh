#!/usr/bin/env bash
# Starts `python -m enas_tf.train --tpu=local` in the background on the TPU VM, so that closing
# ssh does not stop it; rerunning the same command resumes. Runs ON the TPU VM.
set -euo pipefail

usage() {
  cat <<EOF
Usage: [VAR=value ...] tpu/run.sh [--foreground] [enas_tf.train flags ...]

Runs on the TPU VM, in the copy of the repository made by tpu/setup_vm.sh, e.g. from your
workstation:
  gcloud compute tpus tpu-vm ssh enas-tpu --zone=us-central1-a \\
    --command='cd ~/enas_tf && CONFIG=configs/cifar10_micro.py tpu/run.sh'

Starts 'python -m enas_tf.train --tpu=\$TPU --config=\$CONFIG --workdir=\$WORKDIR FLAGS...' in a
new session under nohup (an ssh disconnect does not stop it) and returns; its output goes to
\$WORKDIR.log. The same command run again after the run stopped (crash, kill, preemption)
resumes from the checkpoints in \$WORKDIR. While a run is active it refuses to start another
(the TPU serves one process). Extra flags go to enas_tf.train (--mode=search,
--config.data.source=..., ...).
  --foreground  run in this terminal instead (inside tmux, for example)
Settings (environment):
  CONFIG        config file[:args]                 (default: configs/cifar10_micro.py)
  RUN_NAME      (default: named after CONFIG as enas_tf.train does, e.g. cifar10_micro)
  WORKDIR       a LOCAL directory (default: ~/enas_runs/\$RUN_NAME); not gs://, see README
  BACKUP        gs://BUCKET/PATH copy of \$WORKDIR: synced every \$SYNC_SECONDS and at the end,
                and restored into \$WORKDIR when \$WORKDIR does not exist (a new VM)  (default: none)
  SYNC_SECONDS  (default: 600)
  TPU           value of --tpu                     (default: local)
  PYTHON        (default: python3)
  LOCK          file holding the active run's pid and workdir (default: ~/.enas_tf_tpu_run)
EOF
}

die() {
  echo "error: $*" >&2
  exit 1
}

default_run_name() { # as enas_tf.train.default_workdir: configs/x.py:a=1,b -> x_a-1_b
  local path="${CONFIG%%:*}" arg="" name
  if [[ "$CONFIG" == *:* ]]; then
    arg="${CONFIG#*:}"
  fi
  name="$(basename "$path" .py)"
  if [[ -n "$arg" ]]; then
    arg="${arg//=/-}"
    name+="_${arg//,/_}"
  fi
  echo "$name"
}

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  usage
  exit 0
fi

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
cd "$(dirname "$SELF")/.."
CONFIG="${CONFIG:-configs/cifar10_micro.py}"
RUN_NAME="${RUN_NAME:-$(default_run_name)}"
WORKDIR="${WORKDIR:-$HOME/enas_runs/$RUN_NAME}"
BACKUP="${BACKUP:-}"
SYNC_SECONDS="${SYNC_SECONDS:-600}"
TPU="${TPU:-local}"
PYTHON="${PYTHON:-python3}"
LOCK="${LOCK:-$HOME/.enas_tf_tpu_run}"
export CONFIG RUN_NAME WORKDIR BACKUP SYNC_SECONDS TPU PYTHON LOCK

if [[ "$WORKDIR" == *://* ]]; then
  die "WORKDIR=$WORKDIR: enas_tf writes its workdir with local file operations (os.makedirs," \
    "os.replace), so it must be a local directory. Set BACKUP=$WORKDIR to keep a copy there."
fi
if [[ -n "$BACKUP" && "$BACKUP" != gs://* ]]; then
  die "BACKUP=$BACKUP: must be a gs://BUCKET/PATH URL (or unset)."
fi
[[ -f "${CONFIG%%:*}" ]] || die "CONFIG=$CONFIG: no such file in $(pwd)."

active_run() { # prints "pid workdir" of a live run.sh holding the lock
  local pid rest
  [[ -f "$LOCK" ]] || return 1
  read -r pid rest <"$LOCK" || true
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -qa run.sh "/proc/$pid/cmdline" &&
    echo "$pid $rest"
}

if active="$(active_run)"; then
  die "a run is already using the TPU (pid and workdir: $active). Follow it with" \
    "'tail -f ${active#* }.log'; stop it with 'kill ${active%% *}'."
fi

if [[ "${1:-}" != "--foreground" ]]; then
  mkdir -p "$(dirname "$WORKDIR")"
  setsid nohup "$SELF" --foreground "$@" >>"$WORKDIR.log" 2>&1 </dev/null &
  echo "started in the background: $WORKDIR (log: $WORKDIR.log)"
  echo "follow it:  tail -f $WORKDIR.log"
  echo "stop it:    kill \$(cut -d' ' -f1 $LOCK)   (rerun this command to resume)"
  exit 0
fi
shift

echo "$$ $WORKDIR" >"$LOCK"
sync_backup() {
  # Two passes: TensorFlow's `checkpoint` files (which name the latest checkpoint) reach the
  # bucket only after the checkpoint files they name, so a copy cut short still restores.
  if [[ -n "$BACKUP" && -d "$WORKDIR" ]]; then
    gcloud storage rsync --recursive --exclude='(^|.*/)checkpoint$' "$WORKDIR" "$BACKUP" &&
      gcloud storage rsync --recursive "$WORKDIR" "$BACKUP" ||
      echo "warning: copying $WORKDIR to $BACKUP failed; will retry" >&2
  fi
}
if [[ -n "$BACKUP" && ! -d "$WORKDIR" ]] && gcloud storage ls "$BACKUP" >/dev/null 2>&1; then
  echo "$(date -u +%FT%TZ) restoring $WORKDIR from $BACKUP"
  mkdir -p "$WORKDIR"
  gcloud storage rsync --recursive "$BACKUP" "$WORKDIR"
fi
syncer=""
if [[ -n "$BACKUP" ]]; then
  (
    nap=""
    trap 'kill $nap 2>/dev/null; exit 0' TERM
    while true; do
      sleep "$SYNC_SECONDS" &
      nap=$!
      wait "$nap"
      sync_backup
    done
  ) &
  syncer=$!
fi

command=("$PYTHON" -m enas_tf.train --tpu="$TPU" --config="$CONFIG" --workdir="$WORKDIR" "$@")
echo "$(date -u +%FT%TZ) start (pid $$): ${command[*]}"
"${command[@]}" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
status=0
wait "$child" || status=$?
while kill -0 "$child" 2>/dev/null; do # a trapped signal interrupted `wait`
  status=0
  wait "$child" || status=$?
done
if [[ -n "$syncer" ]]; then
  kill -TERM "$syncer" 2>/dev/null || true
  wait "$syncer" || true
fi
sync_backup
rm -f "$LOCK"
echo "$(date -u +%FT%TZ) exit status $status"
exit "$status"
