#!/bin/sh
# Compares `shopguard lookalikes` with Debian's dnstwist: per fuzzer, the
# permutations each makes of a few domains, whether every dnstwist fuzzer
# class is present in shopguard's output, and coverage (the share of
# dnstwist's domains that shopguard also makes, per class). Exits non-zero
# when a class is missing or its coverage is under MIN_COVERAGE percent.
#
# usage: bench/dnstwist/compare.sh [DOMAIN...]     (from the repo root)
#
# Needs Debian's dnstwist (apt-get install dnstwist) and Go. Nothing is
# looked up: dnstwist 20221213's --format json always resolves what it
# makes, so it runs in an empty network namespace (unshare -n: its lookups
# fail at once, none leaves the machine); where unshare is not allowed,
# fuzz.py drives dnstwist's own Fuzzer the way its run() does, up to the
# DNS threads (DNSTWIST_MODE=cli or module to choose).
#
# Both tools get dnstwist's own lists: TLDS (default its common_tlds.dict)
# for tld-swap and DICTIONARY (default its english.dict) for dictionary.
# SHOPGUARD is the shopguard binary (default: built from ./cmd/shopguard);
# OUT keeps the JSON outputs (default: a temporary directory).
set -eu

here=$(dirname "$0")
TLDS=${TLDS:-/usr/share/dnstwist/dictionaries/common_tlds.dict}
DICTIONARY=${DICTIONARY:-/usr/share/dnstwist/dictionaries/english.dict}
MIN_COVERAGE=${MIN_COVERAGE:-95}
PYTHON=${PYTHON:-/usr/bin/python3} # the python that has Debian's dnstwist module

command -v dnstwist >/dev/null || { echo "compare.sh: dnstwist not found (apt-get install dnstwist)" >&2; exit 2; }
[ $# -gt 0 ] || set -- shopping-example.com paypal.com ab.com bücher.de www.paypal.co.uk

OUT=${OUT:-}
if [ -z "$OUT" ]; then
	OUT=$(mktemp -d)
	trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"

if [ -z "${SHOPGUARD:-}" ]; then
	go build -o "$OUT/shopguard" ./cmd/shopguard
	SHOPGUARD=$OUT/shopguard
fi

mode=${DNSTWIST_MODE:-}
if [ -z "$mode" ]; then
	if unshare -n true 2>/dev/null; then mode=cli; else mode=module; fi
fi

version=$("$PYTHON" -c 'import dnstwist; print(dnstwist.__version__)')
echo "dnstwist $version ($mode), shopguard $SHOPGUARD; TLDs $TLDS, dictionary $DICTIONARY"

i=0
for d in "$@"; do
	i=$((i + 1))
	case $mode in
	cli) unshare -n dnstwist --format json --tld "$TLDS" --dictionary "$DICTIONARY" "$d" >"$OUT/$i.dnstwist.json" ;;
	module) "$PYTHON" "$here/fuzz.py" "$d" --tld "$TLDS" --dictionary "$DICTIONARY" >"$OUT/$i.dnstwist.json" ;;
	*) echo "compare.sh: DNSTWIST_MODE is cli or module" >&2; exit 2 ;;
	esac
	"$SHOPGUARD" lookalikes --json --tlds "$TLDS" --dictionary "$DICTIONARY" "$d" >"$OUT/$i.shopguard.json"
done

"$PYTHON" "$here/compare.py" --min-coverage "$MIN_COVERAGE" "$OUT" "$@"
