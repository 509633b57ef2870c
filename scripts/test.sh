#!/usr/bin/env bash
# Runs every check and test of Latchkey: the README's test command, and what
# .ci/run calls: go vet, staticcheck, every test with the race detector, and
# under CI=true each fuzz target for 15 s (scripts/fuzz.sh). Needs Go (and
# gcc, for the race detector), Debian's chromium for the browser tests of the
# web app and Debian's postgresql for the PostgreSQL tests, which this script
# installs with apt-get when they are missing, and Node 20.9+ with npm for
# the Better Auth and Next.js examples and @latchkey/client, whose packages
# it installs with npm ci. Under CI=true a missing browser, PostgreSQL or
# Node fails those tests; elsewhere they are skipped with a message saying
# so.
set -euo pipefail
cd "$(dirname "$0")/.."

# apt_install PACKAGES WHAT installs Debian packages (one name, or several
# separated by spaces) with apt-get (as root,
# or through passwordless sudo); when it cannot, the tests that need it skip
# (or fail under CI=true) with a message saying what is missing.
updated=
apt_install() {
	local apt_get
	if [ "$(id -u)" = 0 ]; then
		apt_get=(apt-get)
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		apt_get=(sudo -n apt-get)
	else
		echo "test.sh: not root and no sudo: cannot install $1; the $2 will skip (or fail under CI=true)" >&2
		return 0
	fi
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$updated" ]; then
		"${apt_get[@]}" update -qq
		updated=1
	fi
	local packages
	read -r -a packages <<<"$1"
	"${apt_get[@]}" install -y -qq "${packages[@]}" >/dev/null
}

if ! command -v chromium >/dev/null 2>&1; then
	echo "test.sh: chromium is missing; installing Debian's chromium package for the browser tests" >&2
	apt_install chromium "browser tests"
fi

# The PostgreSQL tests start throwaway clusters themselves (internal/pgtest:
# initdb and pg_ctl in a temporary directory, on a free loopback port); they
# only need the server binaries.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
	echo "test.sh: PostgreSQL is missing; installing Debian's postgresql package for the PostgreSQL tests" >&2
	apt_install postgresql "PostgreSQL tests"
fi

# The FastAPI example (examples/fastapi) runs on Debian's Python with
# Debian's packages only; its end-to-end test (cmd/latchkey/fastapi_test.go)
# calls /usr/bin/python3 explicitly, since the PATH's python3 may be another
# build. Without them it skips locally and fails under CI=true.
if ! /usr/bin/python3 -c 'import fastapi, uvicorn, jwt, httpx, cryptography' >/dev/null 2>&1; then
	echo "test.sh: Debian's Python packages for the FastAPI example are missing; installing them" >&2
	apt_install "python3-fastapi python3-uvicorn python3-jwt python3-httpx python3-cryptography" "FastAPI example test"
fi

# The Node side, each pinned by its lockfile: the real better-auth package
# (examples/better-auth), the Next.js app in front of Latchkey
# (examples/nextjs-better-auth) and the TypeScript compiler of
# @latchkey/client (clients/js). It needs Node 20.9 or later (Next.js 16's
# floor; Debian 12's own nodejs is 18, so none is installed here). The three
# npm installs run side by side, and end before go vet: Go's ./... must not
# walk node_modules/next/go while its go.mod (which makes it another module)
# is still being unpacked. Without Node the tests that need it skip locally
# and fail under CI=true.
npm_dirs=(examples/better-auth examples/nextjs-better-auth clients/js)
npm_pids=()
npm_logs=$(mktemp -d)
trap 'rm -rf "$npm_logs"' EXIT
if ! command -v npm >/dev/null 2>&1; then
	echo "test.sh: Node and npm are missing; the Node, Better Auth and Next.js tests will skip (or fail under CI=true)" >&2
elif ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 9) ? 0 : 1)'; then
	echo "test.sh: Node $(node --version) is older than 20.9; the Node, Better Auth and Next.js tests will skip (or fail under CI=true)" >&2
else
	for d in "${npm_dirs[@]}"; do
		(cd "$d" && npm ci --no-audit --no-fund --loglevel=error) >"$npm_logs/${d//\//_}.log" 2>&1 &
		npm_pids+=("$!")
	done
fi

for i in "${!npm_pids[@]}"; do
	if ! wait "${npm_pids[$i]}"; then
		d=${npm_dirs[$i]}
		echo "test.sh: npm ci failed in $d:" >&2
		cat "$npm_logs/${d//\//_}.log" >&2
		exit 1
	fi
done

go vet ./...
# staticcheck, pinned; fetched through the Go module proxy on first use.
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# The browser tests start a few headless browsers; give the run more than
# go test's default 10 minutes per package.
go test -race -count=1 -timeout 20m ./...

# Under CI, every fuzz target also runs for a while (FUZZTIME, 15s each).
if [ "${CI:-}" = true ]; then
	bash scripts/fuzz.sh
fi
