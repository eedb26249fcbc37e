#!/usr/bin/python3
"""Compares dnstwist's and shopguard's permutations (compare.sh writes the
JSON files: DIR/N.dnstwist.json and DIR/N.shopguard.json for the Nth
domain). Prints per domain and in all, per fuzzer class: dnstwist's count,
shopguard's count, coverage (the share of dnstwist's domains of the class
that shopguard makes, in any class) and the share it credits to the same
class. Exits 1 when a dnstwist class is missing from shopguard's output or
covered less than --min-coverage percent."""
import argparse
import collections
import json
import os
import sys

import dnstwist


def dnstwist_classes():
    """The fuzzer classes dnstwist has: its Fuzzer's _methods (_tld is
    tld-swap) and various, which generate() makes itself."""
    names = {m[1:].replace('_', '-') for m in vars(dnstwist.Fuzzer) if m.startswith('_') and not m.startswith('__')}
    names = {'tld-swap' if n == 'tld' else n for n in names}
    return sorted(names | {'various'})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--min-coverage', type=float, default=95)
    ap.add_argument('dir')
    ap.add_argument('domains', nargs='+')
    a = ap.parse_args()
    classes = dnstwist_classes()
    failures = []
    total = collections.defaultdict(lambda: [0, 0, 0, 0])  # dnstwist, shopguard, covered, same class
    for i, domain in enumerate(a.domains, 1):
        with open(os.path.join(a.dir, '%d.dnstwist.json' % i)) as f:
            dt = [(x['fuzzer'], x['domain']) for x in json.load(f) if x['fuzzer'] != '*original']
        with open(os.path.join(a.dir, '%d.shopguard.json' % i)) as f:
            sg_out = json.load(f)['lookalikes'][0]
        sg = {p['domain']: p['fuzzer'] for p in sg_out['permutations']}
        if sg_out.get('truncated'):
            print('%s: shopguard truncated: %s' % (domain, sg_out['truncated']))
        dt_count = collections.Counter(f for f, _ in dt)
        sg_count = collections.Counter(sg.values())
        covered, same, missed = collections.Counter(), collections.Counter(), collections.defaultdict(list)
        for f, d in dt:
            if d in sg:
                covered[f] += 1
                same[f] += sg[d] == f
            else:
                missed[f].append(d)
        print('\n%s: dnstwist %d, shopguard %d permutations' % (domain, len(dt), len(sg)))
        print('%-14s %9s %9s %9s %11s' % ('fuzzer', 'dnstwist', 'shopguard', 'coverage', 'same class'))
        for c in sorted(set(classes) | set(sg_count)):
            n = dt_count[c]
            cov = 100.0 * covered[c] / n if n else None
            print('%-14s %9d %9d %9s %11s' % (c, n, sg_count[c], '%.1f%%' % cov if n else '-', '%.1f%%' % (100.0 * same[c] / n) if n else '-'))
            t = total[c]
            t[0] += n
            t[1] += sg_count[c]
            t[2] += covered[c]
            t[3] += same[c]
            if n and not sg_count[c]:
                failures.append('%s: class %s missing (dnstwist makes %d)' % (domain, c, n))
            elif n and cov < a.min_coverage:
                failures.append('%s: class %s covered %.1f%% < %.1f%%, e.g. %s' % (domain, c, cov, a.min_coverage, ', '.join(missed[c][:5])))
    print('\nAll %d domains:' % len(a.domains))
    print('%-14s %9s %9s %9s %11s' % ('fuzzer', 'dnstwist', 'shopguard', 'coverage', 'same class'))
    for c in sorted(total):
        n, s, cov, same = total[c]
        print('%-14s %9d %9d %9s %11s' % (c, n, s, '%.1f%%' % (100.0 * cov / n) if n else '-', '%.1f%%' % (100.0 * same / n) if n else '-'))
    n = sum(t[0] for t in total.values())
    print('%-14s %9d %9d %9s %11s' % ('total', n, sum(t[1] for t in total.values()),
                                      '%.1f%%' % (100.0 * sum(t[2] for t in total.values()) / n),
                                      '%.1f%%' % (100.0 * sum(t[3] for t in total.values()) / n)))
    absent = [c for c in classes if total[c][0] and not total[c][1]]
    idle = [c for c in classes if not total[c][0] and not total[c][1]]
    print('\ndnstwist %s fuzzer classes: %s' % (dnstwist.__version__, ', '.join(classes)))
    print('present in shopguard\'s output: %s' % ('all' if not absent + idle else 'all but ' + ', '.join(absent + idle)))
    if idle:
        print('(not made by either tool for these domains: %s)' % ', '.join(idle))
    for c in absent:
        failures.append('class %s never made by shopguard' % c)
    if failures:
        print('\nFAIL:\n  ' + '\n  '.join(failures))
        sys.exit(1)
    print('OK: every dnstwist class present, coverage >= %.0f%% in each' % a.min_coverage)


if __name__ == '__main__':
    main()
