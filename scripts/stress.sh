#!/usr/bin/env bash
# Runs the whole test suite several times in a row on a loaded machine, to
# find flaky tests: BUSY busy processes (scripts/busy, each spinning
# GOMAXPROCS goroutines) run beside every `go test -count=1 ./...`, with
# and without -race, and are stopped on exit. Prints pass/fail per run and
# the failed tests; logs stay in the log directory. Exits 1 if a run
# failed.
#
#	bash scripts/stress.sh [-n RUNS] [-b BUSY] [-m race|norace|both] [-o LOGDIR] [-- go test flags]
#
# Defaults: 3 runs per mode, 4 busy processes, both modes, CI=true (a
# missing redis-server or chromium fails the tests instead of skipping
# them). For example, 3 runs with -race only:
#
#	bash scripts/stress.sh -n 3 -m race
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 busy=4 mode=both logdir=""
while getopts "n:b:m:o:h" opt; do
	case $opt in
	n) runs=$OPTARG ;;
	b) busy=$OPTARG ;;
	m) mode=$OPTARG ;;
	o) logdir=$OPTARG ;;
	*) sed -n '2,15s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $mode in
race) modes=(race) ;;
norace) modes=(norace) ;;
both) modes=(norace race) ;;
*) echo "stress: -m must be race, norace or both" >&2; exit 2 ;;
esac
export CI="${CI:-true}"

tmp=$(mktemp -d)
logdir=${logdir:-$tmp/logs}
mkdir -p "$logdir"
pids=()
stop_busy() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	pids=()
	rm -f "$tmp/busy"
	rmdir "$tmp" 2>/dev/null || true
}
trap stop_busy EXIT
trap 'exit 130' INT TERM

go build -o "$tmp/busy" ./scripts/busy
for _ in $(seq "$busy"); do
	"$tmp/busy" &
	pids+=($!)
done
echo "stress: $busy busy processes on $(nproc) CPUs; logs in $logdir" >&2

failed=0 total=0
for m in "${modes[@]}"; do
	flags=(-count=1 -timeout 20m)
	[ "$m" = race ] && flags+=(-race)
	for i in $(seq "$runs"); do
		total=$((total + 1))
		log="$logdir/$m-$i.log"
		start=$SECONDS
		if go test "${flags[@]}" "$@" ./... >"$log" 2>&1; then
			echo "run $m $i: PASS ($((SECONDS - start)) s)"
		else
			failed=$((failed + 1))
			echo "run $m $i: FAIL ($((SECONDS - start)) s), $log:"
			grep -E -e '^(--- FAIL|FAIL|panic:)' -e '^[[:space:]]+--- FAIL' "$log" | sed 's/^/    /' || true
		fi
	done
done
echo "stress: $((total - failed)) of $total runs passed"
[ "$failed" -eq 0 ]
