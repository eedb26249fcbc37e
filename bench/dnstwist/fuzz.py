#!/usr/bin/python3
"""Print dnstwist's permutations of a domain as `dnstwist --format json`
does, without resolving them: drives dnstwist's own Fuzzer the way its
run() does, and stops before the DNS scanner threads.

usage: fuzz.py DOMAIN [--tld FILE] [--dictionary FILE]
"""
import argparse
import json
import re
import sys

import dnstwist  # Debian's python3 module (apt-get install dnstwist)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('domain')
    ap.add_argument('--tld')
    ap.add_argument('--dictionary')
    a = ap.parse_args()
    # As dnstwist's run() reads its files.
    words, tlds = [], []
    if a.dictionary:
        with open(a.dictionary) as f:
            words = [x for x in set(f.read().splitlines()) if x.isalnum()]
    if a.tld:
        with open(a.tld) as f:
            tlds = [x for x in set(f.read().splitlines()) if re.match(r'^[a-z0-9-]{2,63}(\.[a-z0-9-]{2,63}){0,1}$', x)]
    url = dnstwist.UrlParser(a.domain)
    fuzz = dnstwist.Fuzzer(url.domain, dictionary=words, tld_dictionary=tlds)
    fuzz.generate()
    json.dump(sorted(map(dict, fuzz.domains), key=lambda d: (d['fuzzer'], d['domain'])), sys.stdout, indent=4, sort_keys=True)
    print()


if __name__ == '__main__':
    main()
