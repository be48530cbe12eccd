#!/usr/bin/env bash
# What a lent GPU machine ran for the project, as one prepared script (see README, "Pre-training pocket-bert").
#
#   1. calibration: two MLM pre-training configurations of the pocket BERT (peak lr 1e-3 and 5e-4), run at the
#      same time for $CAL steps, to measure steps/s;
#   2. pre-training: both for the number of steps that fits $BUDGET seconds at the measured rate, at the same time;
#   3. the configuration with the higher held-out masked-token accuracy is exported in fp16 (the pocket-bert
#      candidate) and split into <= 15 MB parts for the trip back;
#   4. unsupervised SimCSE from it on the GPU (cls / avg pooling, lr 3e-5 / 1e-5, 500 steps): the premise check;
#   5. the two training benchmarks at bert-base shape on CUDA.
# Everything it measured is bundled in $OUT/session.json; its log is $OUT/session.log.
#
# Inputs (not in git): .device/data (the mirror's SHA256SUMS, STS-B dev/test, vocabulary), .device/mini (a mirror
# with the first 60k corpus lines, for SimCSE and the benchmarks), .device/corpus-*.npz.xz (the tokenised corpus
# cache, lzma-compressed), .device/whl (the transformers wheel the project pins).
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device-out}; WORK=${WORK:-/tmp/srl}; DEV=${DEV:-cuda}
BUDGET=${BUDGET:-330}; BATCH=${BATCH:-1024}; CAL=${CAL:-150}; SIMCSE_STEPS=${SIMCSE_STEPS:-500}
BENCH_SHAPE=${BENCH_SHAPE:-L12-H768-A12-I3072}; BENCH_STEPS=${BENCH_STEPS:-20}
mkdir -p "$OUT" "$WORK/cache"
exec > >(tee -a "$OUT/session.log") 2>&1
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=true
t0=$(date +%s); since() { echo "[$(( $(date +%s) - t0 )) s] $*"; }

since "libraries"
if ls .device/whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .device/whl/*.whl \
    && export PYTHONPATH=/tmp/site
fi
if ! python3 -c "import transformers, torch; from transformers import BertTokenizer; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"; then
  since "the carried transformers does not import here: using the machine's"; unset PYTHONPATH
  python3 -c "import transformers, torch; print('torch', torch.__version__, 'transformers', transformers.__version__)"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true

since "corpus cache"
python3 - "$WORK/cache" <<'PY'
import glob, lzma, os, shutil, sys
for src in glob.glob(".device/corpus-*.npz.xz"):
    dst = os.path.join(sys.argv[1], os.path.basename(src)[:-3])
    with lzma.open(src) as f, open(dst, "wb") as g:
        shutil.copyfileobj(f, g)
    print(dst, os.path.getsize(dst))
PY

train_mlm() {  # time-limit name lr steps eval_steps checkpoint_steps
  SRL_DATA_DIR=$PWD/.device/data timeout "$1" python3 -m lib.train mlm --out_dir "$WORK/$2" --cache_dir "$WORK/cache" \
    --quiet -p device=$DEV -p batch_size=$BATCH -p lr=$3 -p max_steps=$4 -p eval_steps=$5 -p checkpoint_steps=$6 \
    ${EXTRA_MLM:-}
}
since "calibration: $CAL steps of each configuration, at the same time"
train_mlm 240 cal-A 0.001 $CAL 100000 100000 & a=$!; train_mlm 240 cal-B 0.0005 $CAL 100000 100000 & b=$!
wait $a $b  # (a bare `wait` would also wait for the log's tee)
STEPS=$(python3 - "$WORK" "$BUDGET" <<'PY'
import json, sys
rates = []
for name in ("cal-A", "cal-B"):
    try:
        rates.append(json.load(open(f"{sys.argv[1]}/{name}/train.json"))["throughput"]["steps_per_s"])
    except Exception as err:
        print(f"calibration {name}: {err}", file=sys.stderr)
rate = min(r for r in rates if r) if any(rates) else 0
steps = int(rate * (float(sys.argv[2]) - 45)) // 100 * 100
print(max(steps, int(__import__("os").environ.get("MIN_STEPS", "0"))))
PY
)
since "pre-training: $STEPS steps each"
if [ "${STEPS:-0}" -gt 0 ]; then
  E=$(( STEPS / 6 )); C=$(( STEPS / 3 ))
  train_mlm $(( BUDGET + 90 )) A 0.001 $STEPS $E $C & a=$!; train_mlm $(( BUDGET + 90 )) B 0.0005 $STEPS $E $C & b=$!
  wait $a $b
fi

since "choosing and exporting"
CHOSEN=$(python3 - "$WORK" <<'PY'
import json, sys
best = None
for name in ("A", "B"):
    try:
        doc = json.load(open(f"{sys.argv[1]}/{name}/train.json"))
    except Exception:
        continue
    if doc.get("status") != "finished":
        continue
    acc = doc["evals"][-1]["heldout_accuracy"]
    if best is None or acc > best[0]:
        best = (acc, name)
print(best[1] if best else "")
PY
)
if [ -n "$CHOSEN" ]; then
  python3 - "$WORK/$CHOSEN" "$WORK/pocket-bert" <<'PY'
import sys, torch
from transformers import AutoTokenizer, BertForMaskedLM
model = BertForMaskedLM.from_pretrained(sys.argv[1] + "/last", dtype=torch.float32)
model.half().save_pretrained(sys.argv[2])
AutoTokenizer.from_pretrained(sys.argv[1] + "/last").save_pretrained(sys.argv[2])
PY
  cp "$WORK/$CHOSEN/train.json" "$WORK/pocket-bert/train.json"
  tar -C "$WORK" -cf "$WORK/pocket-bert.tar" pocket-bert && split -b 15m -d "$WORK/pocket-bert.tar" "$OUT/pocket-bert.tar.part-"
  ls -la "$OUT"
fi

if [ -n "$CHOSEN" ]; then
  since "SimCSE from the new PLM: $SIMCSE_STEPS steps, four settings at the same time"
  pids=()
  for cfg in "cls 3e-05" "avg 3e-05" "cls 1e-05" "avg 1e-05"; do
    set -- $cfg
    SRL_DATA_DIR=$PWD/.device/mini timeout 240 python3 -m lib.train simcse --out_dir "$WORK/simcse-$1-$2" --quiet \
      -p model="$WORK/$CHOSEN/last" -p device=$DEV -p precision=bf16 -p pooling=$1 -p lr=$2 \
      -p max_steps=$SIMCSE_STEPS -p snapshot_steps=none ${EXTRA_SIMCSE:-} &
    pids+=($!)
  done
  wait "${pids[@]}"
fi

since "benchmarks at $BENCH_SHAPE on $DEV"
export SRL_DATA_DIR=$PWD/.device/mini
timeout 150 python3 benchmarks/bench_pretrain.py --shape $BENCH_SHAPE --batch 128 --steps $BENCH_STEPS --device $DEV \
  --precision bf16 | tail -1 > "$WORK/bench_pretrain.json"
timeout 150 python3 benchmarks/bench_training.py --shape $BENCH_SHAPE --batch 64 --steps $BENCH_STEPS --device $DEV \
  --precision bf16 | tail -1 > "$WORK/bench_training.json"

since "bundling"
python3 - "$WORK" "$OUT/session.json" "$CHOSEN" <<'PY'
import glob, json, os, sys
work, out, chosen = sys.argv[1], sys.argv[2], sys.argv[3]
doc = {"chosen": chosen, "runs": {}, "benchmarks": {}}
for path in sorted(glob.glob(f"{work}/*/train.json")):
    name = os.path.basename(os.path.dirname(path))
    if name != "pocket-bert":
        doc["runs"][name] = json.load(open(path))
for name in ("bench_pretrain", "bench_training"):
    try:
        doc["benchmarks"][name] = json.loads(open(f"{work}/{name}.json").read())
    except Exception as err:
        doc["benchmarks"][name] = {"error": str(err)}
json.dump(doc, open(out, "w"), indent=1)
print("chosen", chosen)
for name, run in doc["runs"].items():
    last = run.get("evals", [{}])[-1]
    print(name, run.get("status"), run.get("step"), {k: round(v, 4) for k, v in last.items() if isinstance(v, float)},
          run.get("throughput", {}).get("steps_per_s"))
print(json.dumps(doc["benchmarks"]))
PY
since "done"
