#!/usr/bin/env bash
# The paper's Table 5 ablation, small: stories260K, trained on ../shared/data/text, evaluated on the
# dev task list (tasks/dev-tasks.json). Rows: Uni + mean, Uni + weighted mean, Bi, Bi + MNTP,
# Bi + SimCSE, Bi + MNTP + SimCSE (inference-style pooling and the reference's whole-row pooling),
# Bi + MNTP + supervised (NLI-style triplets from SICK train). Settings are scaled to a 260K-parameter
# model on 2 CPU cores (see docs/training.md); every command is printed as it runs.
#
#   DATA=../shared/data OUT=results/ablation scripts/ablation-stories260K.sh [stage...]
#   stages: base mntp simcse supervised evals compare (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=${OUT:-results/ablation}
CLI="node dist/src/cli/main.js"
M="$OUT/stories260K"
mkdir -p "$OUT"
run() { echo "+ $*" >&2; "$@"; }
stages=("$@"); [ ${#stages[@]} -eq 0 ] && stages=(base mntp simcse supervised evals compare)
has() { [[ " ${stages[*]} " == *" $1 "* ]]; }

if has base && [ ! -d "$M" ]; then
  run $CLI import-llama2c --model test/fixtures/models/stories260K/stories260K.bin --tokenizer test/fixtures/models/stories260K/tok512.bin --output "$M"
fi
if has mntp && [ ! -f "$OUT/mntp/adapter_config.json" ]; then
  run $CLI train mntp --model "$M" --data "$DATA/text/wikitext-2/wiki.valid.tokens" --eval-data "$DATA/text/wikitext-2/wiki.test.tokens" \
    --detokenize-wikitext --output "$OUT/mntp" --max-length 128 --batch-size 16 --max-steps 1000 --learning-rate 1e-3 --warmup-steps 30 \
    --eval-steps 100 --save-steps 200 --no-progress
fi
SIMCSE=(--data "$DATA/text/wiki1m-head.txt" --batch-size 256 --chunk-size 128 --max-length 64 --max-steps 300 --learning-rate 3e-4 --save-steps 100 --no-progress)
if has simcse; then
  [ -f "$OUT/simcse/adapter_config.json" ] || run $CLI train simcse --model "$M" --output "$OUT/simcse" "${SIMCSE[@]}"
  [ -f "$OUT/mntp-simcse/adapter_config.json" ] || run $CLI train simcse --model "$M" --adapter "$OUT/mntp" --output "$OUT/mntp-simcse" "${SIMCSE[@]}"
  [ -f "$OUT/mntp-simcse-wholerow/adapter_config.json" ] || run $CLI train simcse --model "$M" --adapter "$OUT/mntp" --output "$OUT/mntp-simcse-wholerow" --pool-whole-row "${SIMCSE[@]}"
fi
if has supervised; then
  [ -f "$OUT/sick-triplets.jsonl" ] || run node scripts/make-sick-triplets.mjs "$DATA/eval/sick/SICK_train.txt" "$OUT/sick-triplets.jsonl"
  [ -f "$OUT/mntp-supervised/adapter_config.json" ] || run $CLI train supervised --model "$M" --adapter "$OUT/mntp" --data "$OUT/sick-triplets.jsonl" \
    --output "$OUT/mntp-supervised" --batch-size 32 --chunk-size 32 --max-length 128 --max-steps 300 --learning-rate 2e-4 --warmup-steps 30 --save-steps 100 --no-progress
fi
# --max-length 512: every row encodes as inference does (adapters trained at 128 tokens record that).
ev() {
  local name=$1; shift
  for a in "$@"; do case $a in "$OUT"/*) [ -e "$a/adapter_config.json" ] || { echo "eval $name: $a not trained yet; skipped" >&2; return 0; } ;; esac; done
  [ -f "$OUT/eval/$name/summary.md" ] || run $CLI eval --model "$M" "$@" --max-length 512 --tasks tasks/dev-tasks.json --data "$DATA" --output "$OUT/eval/$name"
}
ROWS=(uni-mean uni-wmean bi bi-mntp bi-simcse bi-mntp-simcse bi-mntp-simcse-wholerow bi-mntp-supervised)
LABELS=("Uni + mean" "Uni + w.mean" "Bi" "Bi + MNTP" "Bi + SimCSE" "Bi + MNTP + SimCSE" "Bi + MNTP + SimCSE (whole-row pooling)" "Bi + MNTP + supervised")
if has evals; then
  ev uni-mean --causal --pooling mean
  ev uni-wmean --causal --pooling weighted_mean
  ev bi --pooling mean
  ev bi-mntp --adapter "$OUT/mntp"
  ev bi-simcse --adapter "$OUT/simcse"
  ev bi-mntp-simcse --adapter "$OUT/mntp" "$OUT/mntp-simcse"
  ev bi-mntp-simcse-wholerow --adapter "$OUT/mntp" "$OUT/mntp-simcse-wholerow"
  ev bi-mntp-supervised --adapter "$OUT/mntp" "$OUT/mntp-supervised"
fi
if has compare; then
  # Compare the rows evaluated so far (a row whose stage was skipped is named, not faked).
  results=(); labels=()
  for i in "${!ROWS[@]}"; do
    if [ -f "$OUT/eval/${ROWS[$i]}/summary.md" ]; then results+=("$OUT/eval/${ROWS[$i]}"); labels+=("${LABELS[$i]}")
    else echo "compare: no evaluation for ${ROWS[$i]} yet; left out" >&2; fi
  done
  run $CLI compare --results "${results[@]}" --label "${labels[@]}" --output "$OUT"
fi
