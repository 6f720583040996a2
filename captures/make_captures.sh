#!/usr/bin/env bash
# Regenerates the synthetic SigMF recordings of this folder, byte for byte: every
# random draw (payloads, semantic symbols, fading, noise) comes from the seeds below,
# and the capture time is fixed.
#
#   captures/make_captures.sh            # rewrite captures/*.sigmf-*
#   captures/make_captures.sh OUT_DIR    # write them to OUT_DIR instead
#
# M4SC names the m4sc binary to use (default: cargo run --release).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-captures}
mkdir -p "$out"
if [[ -n "${M4SC:-}" ]]; then
    m4sc() { "$M4SC" "$@"; }
else
    m4sc() { cargo run --release --quiet -- "$@"; }
fi
common=(--simulate --datetime 2026-01-01T00:00:00.000Z --author "m4sc captures/make_captures.sh")

# 6 Mb/s data frames over Rayleigh multipath (50 ns RMS), 20 dB SNR, -45 kHz carrier
# offset, 2.5-sample delay and a 10 ppm sampling-clock offset; ci16.
m4sc record "${common[@]}" -o "$out/data_6mbps_multipath.sigmf-meta" \
    --frames 6 --rate 6 --payload-bytes 300 --seed 11 \
    --channel multipath --delay-spread-ns 50 --snr-db 20 --cfo-hz -45e3 \
    --timing-offset-samples 2.5 --clock-offset-ppm 10 --format ci16_le --json

# 54 Mb/s data frames over AWGN at 30 dB SNR with an 80 kHz carrier offset and a
# 7.25-sample delay, as a HackRF would record them: ci8.
m4sc record "${common[@]}" -o "$out/data_54mbps_awgn_ci8.sigmf-meta" \
    --frames 8 --rate 54 --payload-bytes 500 --seed 12 \
    --channel awgn --snr-db 30 --cfo-hz 80e3 --timing-offset-samples 7.25 \
    --format ci8 --json

# Two 12 Mb/s data frames, then four semantic frames of 480 QPSK channel symbols
# (public and private streams alternating) over multipath (30 ns RMS) at 25 dB SNR,
# 20 kHz carrier offset, 1.5-sample delay, recorded at 25 MS/s (replay resamples to
# 20 MS/s); ci16.
m4sc record "${common[@]}" -o "$out/semantic_multipath_25msps.sigmf-meta" \
    --frames 2 --rate 12 --payload-bytes 200 --semantic-frames 4 --semantic-symbols 480 \
    --seed 13 --channel multipath --delay-spread-ns 30 --snr-db 25 --cfo-hz 20e3 \
    --timing-offset-samples 1.5 --sample-rate-hz 25e6 --format ci16_le --json

# The multi-user scenario examples/mixed_image_text.toml as its transmitter sends it
# with the shipped weights (weights/default; the recording names their SHA-256): one
# public image message and three private ones, over multipath (40 ns RMS) at 22 dB SNR,
# -30 kHz carrier offset, 3.5-sample delay and a 5 ppm clock offset; ci16. Replay it
# with `m4sc replay FILE --scenario examples/mixed_image_text.toml`. Weights trained
# anew need this recording made anew.
m4sc record "${common[@]}" -o "$out/scenario_mixed_multipath.sigmf-meta" \
    --scenario examples/mixed_image_text.toml --weights weights/default \
    --seed 14 --channel multipath --delay-spread-ns 40 --snr-db 22 --cfo-hz -30e3 \
    --timing-offset-samples 3.5 --clock-offset-ppm 5 --format ci16_le --json
