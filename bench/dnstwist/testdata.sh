#!/bin/sh
# Regenerates internal/phishing/testdata/permute/dnstwist-*.txt, Debian
# dnstwist's permutations ("fuzzer domain" a line, the original left out)
# that internal/phishing's tests check Permutations against.
# Needs Debian's dnstwist (apt-get install dnstwist). Run from the repo root.
set -eu
dir=internal/phishing/testdata/permute
for d in paypal.com ab.com bücher.de www.my-shop.co.uk; do
	ascii=$(/usr/bin/python3 -c 'import sys; print(sys.argv[1].encode("idna").decode())' "$d")
	/usr/bin/python3 bench/dnstwist/fuzz.py "$d" --tld "$dir/tlds.txt" --dictionary "$dir/words.txt" |
		/usr/bin/python3 -c '
import json, sys
for x in json.load(sys.stdin):
    if x["fuzzer"] != "*original":
        print(x["fuzzer"], x["domain"])' >"$dir/dnstwist-$ascii.txt"
done
