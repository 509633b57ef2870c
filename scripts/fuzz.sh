#!/usr/bin/env bash
# Runs every fuzz target of Latchkey for FUZZTIME each (default 15s). A
# crash leaves its input under the package's testdata/fuzz/, where plain
# `go test` replays it from then on: commit it as the regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-15s}

targets=(
	"./verify FuzzVerify"
	"./verify FuzzUnverifiedIssuer"
	"./httpapi FuzzDecode"
	"./httpapi FuzzRequestBodies"
	"./httpapi FuzzCrossSite"
	"./httpapi FuzzClientIP"
	". FuzzDecodeCursor"
	"./password FuzzParsePHC"
	"./auth FuzzCleanUserAgent"
	"./auth FuzzNormalizeRecoveryCode"
	"./emailkey FuzzOf"
)
# Every Fuzz function in the tree must be listed above.
found=$(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/^func //' | sort)
listed=$(printf '%s\n' "${targets[@]}" | awk '{print $2}' | sort)
if [ "$found" != "$listed" ]; then
	echo "fuzz.sh: the target list is out of date; found:" $found >&2
	exit 1
fi
for t in "${targets[@]}"; do
	set -- $t
	echo "fuzz.sh: $2 in $1 for $fuzztime"
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" "$1"
done
