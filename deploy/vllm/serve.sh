#!/usr/bin/env bash
# Serve devia's production chat model with vLLM (OpenAI-compatible API on :8000).
# Runs on the GPU host, in vLLM's own environment (never the devia venv: vLLM pins its own
# torch and CUDA stack). Every setting can be overridden from the environment.
set -euo pipefail

MODEL="${MODEL:-Qwen/Qwen2.5-7B-Instruct}"
REVISION="${REVISION:-main}"                  # pin a commit hash for a validated deployment
SERVED_MODEL_NAME="${SERVED_MODEL_NAME:-devia-investigator}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-8000}"
API_KEY="${API_KEY:?set API_KEY: devia sends it as DEVIA_LLM_API_KEY}"
QUANTIZATION="${QUANTIZATION:-fp8}"           # dynamic FP8 on H100/H200; "" for bf16
MAX_MODEL_LEN="${MAX_MODEL_LEN:-16384}"       # investigation prompts ~3-8k + 1-2k out
GPU_MEMORY_UTILIZATION="${GPU_MEMORY_UTILIZATION:-0.85}"  # leave room for an embedder
MAX_NUM_SEQS="${MAX_NUM_SEQS:-64}"
SEED="${SEED:-7}"

args=(
  "$MODEL"
  --revision "$REVISION"
  --served-model-name "$SERVED_MODEL_NAME"
  --host "$HOST" --port "$PORT"
  --api-key "$API_KEY"
  --max-model-len "$MAX_MODEL_LEN"
  --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION"
  --max-num-seqs "$MAX_NUM_SEQS"
  --enable-prefix-caching
  --structured-outputs-config '{"backend": "xgrammar"}'
  --generation-config vllm
  --seed "$SEED"
)
if [[ -n "$QUANTIZATION" ]]; then
  args+=(--quantization "$QUANTIZATION")
fi

exec vllm serve "${args[@]}" "$@"
