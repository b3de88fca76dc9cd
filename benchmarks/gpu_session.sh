#!/usr/bin/env bash
# One GPU session, about 4 minutes on an H100 (each part has its own time limit, and no training run
# starts after 420 s, so it ends within 8 minutes):
#   1. the tests marked `cuda`
#   2. bench_fit on the GPU (fit against the hand-written torch loop; goal fit/hand <= 1.15), and
#      bench_syncs (host-device synchronisations per fit step; goal 0)
#   3. time to 99%: `course train --model speed` (the kit's own fit, a schedule fixed in advance,
#      no early stopping) for seeds 0-4; each line: seed, train seconds, test accuracy on all 10,000
#      test images; then how many reached 99.0% and the median time against the public record.
#      Then the same recipe with 3 and with 5 epochs, as far as time allows (each fixed in advance
#      and reported in full: how accuracy and time trade, not a choice made on the test set).
# Runs from a plain checkout: no install, PYTHONPATH=. (MNIST ships in course/data/files/mnist).
# Writes everything it prints to $OUT/gpu.log (a temporary folder when OUT is unset).
#
#   bash benchmarks/gpu_session.sh                 # on the GPU machine
#   GPU_SMOKE=1 bash benchmarks/gpu_session.sh     # the same steps, tiny, on the CPU (checks this script)
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
LOG=$OUT/gpu.log
RUNS=$(mktemp -d)                 # model.keras and plots of the speed runs: not sent back
export PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH} MPLBACKEND=Agg TQDM_DISABLE=1 PYTHONUNBUFFERED=1
BUDGET=${BUDGET:-420}             # seconds: no speed run starts after this (keeps the session under 8 minutes)
RECORD=0.76                       # seconds to 99% on one GTX 1660 Ti, plain PyTorch (the public record)
if [ "${GPU_SMOKE:-0}" = 1 ]; then
    DEVICE=cpu; SEEDS="0"; BENCH=(--batches 2 --repeats 1 --threads 1); SPEED=(--limit 2000 --epochs 1 --warmup 2)
    RUN_LIMIT=900
else
    DEVICE=cuda; SEEDS="0 1 2 3 4"; BENCH=(--batches 200 --repeats 5); SPEED=()
    RUN_LIMIT=60                  # seconds for one `course train` process (start, warm-up, training, test)
fi
exec > >(tee -a "$LOG") 2>&1
section() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }

section "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null \
    || echo "nvidia-smi: not available"
python3 - <<'EOF'
import platform, torch
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA build {torch.version.cuda}, "
      f"cuda available: {torch.cuda.is_available()}"
      + (f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""))
EOF

section "1. tests marked cuda"
CUDA_TESTS=$(grep -l "mark.cuda" tests/*.py | tr '\n' ' ')
echo "files: $CUDA_TESTS"
NOCONF=""                           # conftest.py imports torchvision; without it, run without conftest
python3 -c "import torchvision" 2>/dev/null || { NOCONF=--noconftest; echo "no torchvision: pytest --noconftest"; }
COURSE_FAST=1 timeout 120 python3 -m pytest -o addopts='' -p no:cacheprovider $NOCONF -m cuda -q -rs $CUDA_TESTS
echo "pytest exit code: $?"

section "2. bench_fit on $DEVICE"
timeout 120 python3 benchmarks/bench_fit.py --device "$DEVICE" --no-keras --models mlp,cnn,cnn-large,speed "${BENCH[@]}"
echo "bench_fit exit code: $?"

section "2b. host-device synchronisations per fit step"
timeout 60 python3 benchmarks/bench_syncs.py --models mlp,cnn,cnn-large,speed
echo "bench_syncs exit code: $?"

# $1: a label; the rest: extra `course train` arguments. Each seed in its own process (its own warm-up).
time_to_99() {
    local label=$1; shift
    section "3. time to 99% ($label): course train --model speed $*"
    for seed in $SEEDS; do
        if [ "$SECONDS" -gt "$BUDGET" ]; then
            echo "seed $seed: not run (the session passed $BUDGET s)" | tee "$OUT/$label-$seed.txt"
            continue
        fi
        timeout "$RUN_LIMIT" python3 -m course train --model speed --device "$DEVICE" --seed "$seed" \
            --output "$RUNS/$label-$seed" "$@" > "$OUT/$label-$seed.txt" 2>&1
        echo "seed $seed: exit code $?"
        cat "$OUT/$label-$seed.txt"
    done
    python3 - "$OUT" "$label" "$RECORD" "$*" $SEEDS <<'EOF'
import re, statistics, sys
out, label, record, extra, seeds = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5:]
rows = []
for seed in seeds:
    text = open(f"{out}/{label}-{seed}.txt").read()
    t = re.search(r"^Train time: ([\d.]+) s", text, re.M)
    c = re.search(r"^Test images correct: ([\d,]+) of ([\d,]+)", text, re.M)
    if not (t and c):
        print(f"seed {seed}: no result (see {out}/{label}-{seed}.txt)")
        continue
    rows.append((seed, float(t.group(1)), *(int(g.replace(",", "")) for g in c.groups())))
print(f"\ntime to 99% ({label}: course train --model speed {extra}): seed, train seconds, test accuracy")
for seed, sec, correct, total in rows:
    print(f"  seed {seed}: {sec:7.3f} s  {correct / total:.4f} ({correct} of {total})"
          + ("" if correct >= 0.99 * total else "  below 99%"))
if rows:
    hit = sum(correct >= 0.99 * total for _, _, correct, total in rows)
    med = statistics.median(sec for _, sec, _, _ in rows)
    print(f"  reached 99.0%: {hit} of {len(rows)} seeds; median train time {med:.3f} s")
    print(f"  goal median time / record {record} s < 1: x{med / record:.2f} "
          f"({'met' if med < record and hit == len(rows) else 'NOT met'}; all seeds must reach 99%)")
EOF
}

time_to_99 default "${SPEED[@]}"
# The same recipe with one epoch less and one more: fixed in advance too, reported in full.
if [ "${GPU_SMOKE:-0}" != 1 ]; then
    [ "$SECONDS" -gt 300 ] || time_to_99 epochs3 --epochs 3
    [ "$SECONDS" -gt 330 ] || time_to_99 epochs5 --epochs 5
fi

section "done; log in $LOG"
