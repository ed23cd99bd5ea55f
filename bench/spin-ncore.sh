#!/usr/bin/env bash
# Usage: spin-ncore.sh T B NCORE
# Spin's own multi-core mode (-DNCORE, the shared-memory multi-core DFS of Holzmann & Bosnacki
# 2007) on the reference model of ../shared/bench/MODEL.md, as a second reference for the bench.
# Same model and flags as ../shared/bench/spin-baseline.sh plus -DNCORE; prints one JSON line
# with states, seconds (the slowest core's elapsed time) and states per second.
set -euo pipefail
T=${1:-2}; B=${2:-3}; N=${3:-2}
gen=${DAXCHECK_SPIN_GEN:-$(cd "$(dirname "$0")" && pwd)/../../shared/bench/gen-promela.cjs}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
node "$gen" "$T" "$B" >/dev/null
spin -a -o2 "model-T$T-B$B.pml" >/dev/null
gcc -O2 -DSAFETY -DNOREDUCE -DNOBOUNDCHECK -DMEMLIM=4000 -DNCORE="$N" -o pan pan.c
./pan -w27 -m100000 > pan.out 2>&1 || true
states=$(grep -oE '[0-9e+.]+ states, stored' pan.out | head -1 | awk '{print $1}')
secs=$(grep -oE 'cpu[0-9]+: elapsed time [0-9.e+-]+' pan.out | awk '{print $4}' | sort -g | tail -1)
node -e 'const [s,t,n,T,B]=process.argv.slice(1);const x=Number(s),y=Number(t);console.log(JSON.stringify({tool:"spin-ncore"+n,T:+T,B:+B,ncore:+n,states:x,seconds:y,statesPerSecond:Math.round(x/y)}))' "$states" "$secs" "$N" "$T" "$B"
