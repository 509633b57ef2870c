#!/usr/bin/env bash
# Runs every check and test of Latchkey: the README's test command, and what
# .ci/run calls. Needs only Go (and gcc, for the race detector).
set -euo pipefail
cd "$(dirname "$0")/.."

go vet ./...
go test -race -count=1 ./...
