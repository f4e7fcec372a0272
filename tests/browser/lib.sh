# tests/browser/lib.sh — what every browser test script sources: the npm
# dependency (playwright-core, from package-lock.json with npm ci, once per
# lock), Debian's Chromium, and running one test program with node, the
# stack's CA trusted for its API calls.
set -u

: "${INFRA_URL:?run through tests/run, or export the variables of var/stack.env}"
BROWSER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export INFRA_REPO=${INFRA_REPO:-$(cd "$BROWSER_DIR/../.." && pwd)}

# browser_deps: node, npm and /usr/bin/chromium are there (scripts/setup
# installs them), and node_modules holds what package-lock.json says. A
# stamp records the lock last installed; flock keeps two runs from
# installing into the same folder at once.
browser_deps() {
	local tool
	for tool in node npm "${INFRA_CHROMIUM:-/usr/bin/chromium}"; do
		command -v "$tool" >/dev/null 2>&1 && continue
		echo "not ok 1 - '$tool' is missing (run scripts/setup)"
		return 1
	done
	(
		flock 9
		cd "$BROWSER_DIR" || exit 1
		cmp -s package-lock.json node_modules/.infra-installed-lock && exit 0
		npm ci --no-audit --no-fund --loglevel=error >&2 &&
			cp package-lock.json node_modules/.infra-installed-lock
	) 9>"$BROWSER_DIR/.npm-ci.lock" || {
		echo "not ok 1 - npm ci in tests/browser (playwright-core)"
		return 1
	}
}

# run_browser_test FILE.mjs: node runs it (it prints the TAP lines); the
# exit status is its own.
run_browser_test() {
	browser_deps || return 1
	NODE_EXTRA_CA_CERTS=$INFRA_CA node "$BROWSER_DIR/$1"
}
