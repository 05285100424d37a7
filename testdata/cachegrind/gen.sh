#!/usr/bin/env bash
# Regenerates reference.json: Valgrind Cachegrind's D1 and LL data counts
# for each access pattern of pattern.c on each cache geometry. Run from
# this directory; needs gcc, objdump, valgrind and python3. The Go test
# sim/cachegrind_test.go replays the same patterns and must agree.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

CFLAGS="-O2 -nostdlib -static -no-pie -fno-pic -fno-builtin -fno-stack-protector -fcf-protection=none"
# geometry: D1 size,assoc,line / LL size,assoc,line (Cachegrind's syntax)
geoms=(
  "32768,8,64 1048576,16,64"
  "32768,2,64 1048576,16,64"
  "65536,4,64 524288,8,64"
  "8192,4,32 131072,8,32"
  "4096,1,64 65536,4,64"
  "49152,12,64 3145728,12,64"
  "49152,12,64 2097152,16,64"
  "32768,8,64 2097152,16,64"
)
# pattern: PATTERN N REGION STRIDE SEED OFFSET
pats=(
  "1 200000 262144 8 1 0"
  "2 200000 1048576 192 1 0"
  "2 150000 4194304 4160 1 0"
  "3 300000 524288 8 12345 0"
  "3 300000 4194304 8 777 0"
  "4 300000 1048576 8 99 0"
  "1 200000 131072 8 1 60"
  "3 200000 262144 8 5 60"
)
{
  echo "{"
  echo "  \"provenance\": {"
  echo "    \"valgrind\": \"$(valgrind --version)\","
  echo "    \"gcc\": \"$(gcc --version | head -1)\","
  echo "    \"date\": \"$(date -u +%Y-%m-%d)\","
  echo "    \"build\": \"gcc $CFLAGS -DPATTERN=p -DN=n -DREGION=r -DSTRIDE=s -DSEED=x -DOFFSET=o pattern.c\","
  echo "    \"note\": \"Valgrind 3.19 warns that it found the host's L3 before it applies --LL; the --LL geometry is the one simulated (a 64 KiB LL changes the counts accordingly). D1 misses = d1mr + d1mw, LL data misses = dlmr + dlmw; dr + dw = n shows the pattern is the program's only data references.\","
  echo "    \"run\": \"valgrind --tool=cachegrind --cache-sim=yes --I1=32768,8,<line> --D1=<d1> --LL=<ll> --cachegrind-out-file=/dev/null ./pattern\""
  echo "  },"
  echo "  \"cases\": ["
  first=1
  for p in "${pats[@]}"; do
    read -r pat n region stride seed offset <<<"$p"
    bin="$tmp/pat"
    gcc $CFLAGS -DPATTERN=$pat -DN=$n -DREGION=$region -DSTRIDE=$stride -DSEED=$seed -DOFFSET=$offset -o "$bin" pattern.c
    # The loop must not touch the stack: no rsp/rbp-relative operands.
    if objdump -d "$bin" | sed -n '/<_start>:/,$p' | grep -Eq '\((%rsp|%rbp)|[[:space:]](push|pop|call)[[:space:]]'; then
      echo "pattern $p: _start uses the stack" >&2; exit 1
    fi
    base=$(nm "$bin" | awk '$3 == "buf" {print $1}')
    for g in "${geoms[@]}"; do
      read -r d1 ll <<<"$g"
      line=${d1##*,}
      out=$(valgrind --tool=cachegrind --cache-sim=yes --I1=32768,8,$line --D1=$d1 --LL=$ll --cachegrind-out-file=/dev/null "$bin" 2>&1)
      # "D1  misses:  25,000  ( 25,000 rd + 0 wr)": the numbers after the colon.
      nums() { echo "$out" | grep -E "$1" | sed 's/^.*: *//; s/,//g' | grep -oE '[0-9]+' ; }
      read -r dtot dr dw < <(nums 'D +refs:' | xargs)
      read -r d1tot d1mr d1mw < <(nums 'D1 +misses:' | xargs)
      read -r lltot dlmr dlmw < <(nums 'LLd +misses:' | xargs)
      [ $first = 1 ] || echo ","
      first=0
      printf '    {"pattern": %s, "n": %s, "region": %s, "stride": %s, "seed": %s, "offset": %s, "base": "0x%s", "d1": "%s", "ll": "%s", "dr": %s, "dw": %s, "d1mr": %s, "d1mw": %s, "dlmr": %s, "dlmw": %s}' \
        "$pat" "$n" "$region" "$stride" "$seed" "$offset" "$base" "$d1" "$ll" "$dr" "$dw" "$d1mr" "$d1mw" "$dlmr" "$dlmw"
    done
  done
  echo
  echo "  ]"
  echo "}"
} > reference.json.tmp
python3 -m json.tool reference.json.tmp > /dev/null
mv reference.json.tmp reference.json
echo "wrote reference.json"
