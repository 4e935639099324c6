#!/usr/bin/env bash
# `make demo`: run the main jobs on the bundled sample data, no server to install.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
rm -rf var/landing var/members  # a fresh start each time, so the demo is repeatable
mkdir -p var/landing
cp data/applications/applications_dataset_*.csv var/landing/
# The copies are complete when cp returns: no need to wait out the settle window.
$BIN/shopdata members run --landing var/landing --output var/members --settle-seconds 0

# Sales database (issue 3): embedded PostgreSQL 18 in var/pgdata, rebuilt from the init SQL on each
# demo run, fed by the pipeline's successful members plus seeded sales; then both analyst answers.
$BIN/shopdata db up
$BIN/shopdata db reset --yes
$BIN/shopdata db load-members var/members
$BIN/shopdata db seed --quiet
$BIN/shopdata db query top-members
$BIN/shopdata db query top-items
$BIN/shopdata db check
echo "sales database: $($BIN/shopdata db url)  (stop it with: $BIN/shopdata db down)"

# Car buying-price model (issue 7): a quick 2x5-fold comparison into var/carprice (the model card
# in docs/carprice.md uses the default 10x5), then the issue's question with persons left out.
$BIN/shopdata carprice train --repeats 2
$BIN/shopdata carprice predict --maint high --doors 4 --lug-boot big --safety high --class good
