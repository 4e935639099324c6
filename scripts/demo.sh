#!/usr/bin/env bash
# `make demo`: run the main jobs on the bundled sample data, no server to install.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
rm -rf var/landing var/members  # a fresh start each time, so the demo is repeatable
mkdir -p var/landing
cp data/applications/applications_dataset_*.csv var/landing/
$BIN/shopdata members run --landing var/landing --output var/members
