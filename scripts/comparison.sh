#!/usr/bin/env bash
# Regenerates results/comparison/: the semantic system against the classical baseline
# over AWGN and Rayleigh multipath (examples/sweep_eval.toml, 0-30 dB, 3 channel seeds),
# the semantic-sharing ablation on examples/four_tasks_one_image.toml, the
# interleaving ablation over multipath, and the model ablations (KAN versus MLP
# projector, fading-trained versus AWGN-trained) over multipath.
#
#   scripts/comparison.sh            # with the release build (cargo run --release)
#   M4SC=path/to/m4sc scripts/comparison.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${M4SC:-}" ]]; then
    m4sc() { "$M4SC" "$@"; }
else
    m4sc() { cargo run --release --quiet -- "$@"; }
fi
export RUST_LOG=${RUST_LOG:-error}
out=results/comparison

# Weights of a past revision, taken from git history: weights_at REVISION DIR.
weights_at() {
    mkdir -p "$2"
    for f in config.json model.safetensors tokenizer.json; do
        git show "$1:weights/default/$f" > "$2/$f"
    done
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The semantic system of these results: the two-stage weights that were the default
# when they were measured (revision cf9a668; the third stage shipped since).
semantic="$tmp/two_stage"
weights_at cf9a668 "$semantic"
m4sc sweep --scenario examples/sweep_eval.toml --snr-db 0:30:2 --seeds 3 \
    --weights "$semantic" --channel awgn --out "$out/awgn"
m4sc sweep --scenario examples/sweep_eval.toml --snr-db 0:30:2 --seeds 3 \
    --weights "$semantic" --channel multipath --out "$out/multipath"
m4sc sweep --scenario examples/four_tasks_one_image.toml --snr-db 0:30:6 --seeds 3 \
    --weights "$semantic" --channel multipath --rates 12,24 --ablate-sharing \
    --out "$out/sharing"
m4sc sweep --scenario examples/sweep_eval.toml --snr-db 0:30:2 --seeds 3 \
    --weights "$semantic" --channel multipath --rates 12 --ablate-interleaving \
    --out "$out/interleaving"

# Model ablations over multipath: the first training stage (KAN projector, Rayleigh
# fading on half of its training examples; the default weights of revision 618e7be,
# taken from git history) against its twins trained identically but for one setting:
# the MLP projector (weights/mlp_6k, configs/default_mlp.toml) and AWGN-only training
# (weights/awgn_6k, configs/default_awgn.toml); the two-stage weights run beside them.
kan="$tmp/kan_6k"
weights_at 618e7be "$kan"
m4sc sweep --scenario examples/sweep_eval.toml --snr-db 0:30:2 --seeds 3 \
    --weights "$semantic" --channel multipath --rates 12 --also-weights "kan-6k=$kan" \
    --also-weights mlp-6k=weights/mlp_6k --also-weights awgn-6k=weights/awgn_6k \
    --out "$out/models"
# The same three models on the whole test split through the symbol-level Rayleigh
# channel (needs data/prepared, see data/README.md).
for m in "kan_6k:$kan" mlp_6k:weights/mlp_6k awgn_6k:weights/awgn_6k; do
    m4sc eval-sweep --weights "${m#*:}" --data data/prepared --snr-db 0:25:5 \
        --channel rayleigh --out "results/semantic/ablations/${m%%:*}_rayleigh"
done
