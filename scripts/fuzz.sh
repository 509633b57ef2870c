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
	"./verify FuzzParseSET"
	"./httpapi FuzzDecode"
	"./httpapi FuzzRequestBodies"
	"./httpapi FuzzCrossSite"
	"./httpapi FuzzClientIP"
	"./httpapi FuzzPasskeyCredentials"
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
# Go 1.26's fuzz coordinator can fail a run with a bare "context deadline
# exceeded" as -fuzztime ends, with no failing input (golang/go#75804,
# fixed in Go 1.27). Such a run, and only such a run (no new input under
# testdata/fuzz), is tried again, three times in all; a crash always fails.
fuzz() {
	local dir=$1/testdata/fuzz/$2 out before after
	before=$(ls "$dir" 2>/dev/null | wc -l)
	out=$(mktemp)
	# Minimizing a new input may take 60 s by default: for a target whose
	# run takes a millisecond (FuzzPasskeyCredentials writes to SQLite) that
	# is the whole budget. 5 s still shrinks a crasher well enough to read.
	if go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "$1" 2>&1 | tee "$out"; test "${PIPESTATUS[0]}" -eq 0; then
		rm -f "$out"
		return 0
	fi
	after=$(ls "$dir" 2>/dev/null | wc -l)
	if [ "$after" = "$before" ] && grep -q '^    context deadline exceeded$' "$out"; then
		rm -f "$out"
		return 2
	fi
	rm -f "$out"
	return 1
}
for t in "${targets[@]}"; do
	set -- $t
	echo "fuzz.sh: $2 in $1 for $fuzztime"
	for try in 1 2 3; do
		rc=0
		fuzz "$1" "$2" || rc=$?
		[ "$rc" = 2 ] || break
		echo "fuzz.sh: $2 ended on Go's fuzztime deadline race (golang/go#75804), no failing input (try $try of 3)"
	done
	[ "$rc" = 0 ] || exit "$rc"
done
