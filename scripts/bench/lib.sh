# scripts/bench/lib.sh — what the HTTP benchmarks share (sourced, not run):
# their settings, a throwaway stack without rate limits, and wrk runs whose
# figures are kept for ratios against a reference measured in the same run.
#   bench_init               settings and tool checks
#   bench_stack_up [VAR=V…]  a stack in a temp dir (removed on exit); sources
#                            stack.env; called again, restarts it with new settings
#   bench_at_exit CMD        run CMD (eval'ed) before the stack is removed
#   bench_measure NAME ARGS  wrk over TLS; sets rps[NAME], p50[NAME], p99[NAME], errors[NAME]
#   bench_ratio A B          100 * rps[A] / rps[B], rounded
#   bench_machine            one line saying where and when

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${INFRA_BUILD:-$repo/build}
case "$build" in /*) ;; *) build=$repo/$build ;; esac
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
workers=${INFRA_WORKERS:-4}
declare -A rps p50 p99 errors

bench_init() {
	command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/setup --bench)" >&2; exit 1; }
	[ -x "$build/infrad" ] || { echo "bench: '$build/infrad' is not built (make)" >&2; exit 1; }
}

bench_exit_hooks=()
bench_at_exit() { bench_exit_hooks+=("$1"); }

bench_cleanup() {
	local hook
	for hook in "${bench_exit_hooks[@]}"; do eval "$hook" || true; done
	[ -n "${bench_var:-}" ] || return 0
	INFRA_VAR=$bench_var "$repo/scripts/stack" down >/dev/null 2>&1 || true
	[ -L "$bench_var/pg" ] && rm -rf "$(readlink "$bench_var/pg")"
	rm -rf "$bench_var"
}

bench_stack_up() {
	if [ -z "${bench_var:-}" ]; then
		bench_var=$(mktemp -d "${TMPDIR:-/tmp}/infra-bench.XXXXXX")
		trap bench_cleanup EXIT
		trap 'exit 130' INT TERM
	else
		INFRA_VAR=$bench_var "$repo/scripts/stack" down >/dev/null 2>&1 || true
	fi
	if ! env INFRA_VAR="$bench_var" INFRA_BUILD="$build" INFRA_RATE_LIMIT=off \
		INFRA_WORKERS="$workers" INFRA_LOG_LEVEL="${INFRA_LOG_LEVEL:-info}" "$@" \
		"$repo/scripts/stack" up >"$bench_var.up.log" 2>&1; then
		cat "$bench_var.up.log" >&2
		rm -f "$bench_var.up.log"
		exit 1
	fi
	rm -f "$bench_var.up.log"
	# shellcheck disable=SC1091
	. "$bench_var/stack.env"
}

# bench_ms VALUE: wrk's latency (us, ms or s) in milliseconds.
bench_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
		printf "%.2f", n }'
}

bench_measure() {
	local name=$1 out
	shift
	out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@")
	rps[$name]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
	p50[$name]=$(bench_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
	p99[$name]=$(bench_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
	errors[$name]=$(awk '/Non-2xx/ { n += $NF }
		/Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
	printf '%-40s %9s req/s   p50 %6s ms   p99 %6s ms   errors %s\n' \
		"$name" "${rps[$name]}" "${p50[$name]}" "${p99[$name]}" "${errors[$name]}"
}

bench_ratio() {
	awk -v a="${rps[$1]}" -v b="${rps[$2]}" 'BEGIN { printf "%.0f", b ? 100 * a / b : 0 }'
}

bench_machine() {
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); $(date -u +%Y-%m-%d)"
	echo "wrk -t$threads -c$connections -d$duration --latency over TLS; infrad: $workers workers"
}
