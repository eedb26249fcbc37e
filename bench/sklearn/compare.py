#!/usr/bin/python3
"""Side-by-side table: shopguard's `eval messages|urls` text output next to
text_baselines.py's --json output, run on the same folds.

Usage: python3 bench/sklearn/compare.py --shopguard EVAL_OUTPUT.txt --sklearn RESULT.json
                                        [--markdown]

shopguard's output is parsed from its text, tolerantly: the first row that starts with
"pooled" (its numbers matched to the column names of the header line above it that
names "accuracy", else taken as accuracy, precision, recall, F1, MCC in that order;
"99.03%" and "0.9903" both read as 0.9903), the "30/70" row the same way, and the line
"Throughput on one core: ... classification N <unit>/s ... training N <unit>/s ...".
A figure that cannot be found is shown as "?" rather than failing. Standard library only.

For the reviews task (`shopguard eval content`, JSON with "polarities"), shopguard's output
is cut into its "positive reviews:" and "negative reviews:" sections, each parsed as above
(its pooled row and the "ROC AUC x" line), and the rows "positive -> negative" and
"negative -> positive" of its cross-domain table are set beside the baseline's. eval content
prints no throughput, so shopguard's rates show as "n/a".
"""
import argparse
import json
import math
import re
import sys

NUM = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?%?")
METRICS = {"accuracy": "accuracy", "acc": "accuracy", "precision": "precision", "prec": "precision",
           "recall": "recall", "rec": "recall", "f1": "f1", "mcc": "mcc", "auc": "auc", "rocauc": "auc"}
ORDER = ["accuracy", "precision", "recall", "f1", "mcc"]


def number(tok):
    pct = tok.endswith("%")
    v = float(tok.rstrip("%").replace(",", ""))
    return v / 100 if pct else v


def parse_row(lines, label):
    """Metrics of the first row whose first field is `label` (case-insensitive)."""
    for i, line in enumerate(lines):
        fields = line.split()
        if not fields or fields[0].lower().rstrip(":") != label.lower():
            continue
        vals = [number(t) for t in NUM.findall(" ".join(fields[1:]))]
        cols = None
        for j in range(i - 1, -1, -1):  # the nearest header above
            if "accuracy" in lines[j].lower():
                names = [METRICS.get(re.sub(r"[^a-z0-9]", "", t.lower())) for t in lines[j].split()]
                cols = [n for n in names if n]
                break
        if not cols or len(cols) != len(vals):
            cols = ORDER[:len(vals)]
        return dict(zip(cols, vals))
    return {}


def parse_throughput(text):
    """classification and training rates from the "Throughput on one core:" line."""
    out = {}
    m = re.search(r"throughput[^\n]*", text, re.I)
    if not m:
        return out
    line = m.group(0)
    for key, word in (("classify_rps", r"classif\w*"), ("train_rps", r"train\w*")):
        mm = re.search(word + r"\D{0,40}?(\d[\d,]*(?:\.\d+)?)\s*[\w ]*?/\s*s", line, re.I)
        if mm:
            out[key] = float(mm.group(1).replace(",", ""))
    return out


def parse_shopguard(text):
    lines = text.splitlines()
    pooled = parse_row(lines, "pooled")
    if "auc" not in pooled:  # e.g. "ROC AUC 0.9871, average precision ..." after the pooled row
        after = text[text.lower().find("\npooled"):] if "\npooled" in text.lower() else text
        m = re.search(r"\bAUC\b\D{0,10}?([01]\.\d+)", after)
        if m:
            pooled["auc"] = float(m.group(1))
    tp = re.search(r"^.*throughput.*$", text, re.I | re.M)
    return {"pooled": pooled, "split": parse_row(lines, "30/70"), **parse_throughput(text),
            "throughput_line": tp.group(0).strip() if tp else None}


def sections(text, names):
    """The text of each section that starts at a line beginning with NAME (e.g. "positive
    reviews"), up to the next such line or a line starting with "cross-domain"."""
    lines = text.splitlines()
    starts = []
    for i, line in enumerate(lines):
        low = line.strip().lower()
        for n in names:
            if low.startswith(n.lower()):
                starts.append((i, n))
        if low.startswith("cross-domain"):
            starts.append((i, None))
    out = {}
    for j, (i, n) in enumerate(starts):
        end = starts[j + 1][0] if j + 1 < len(starts) else len(lines)
        if n is not None and n not in out:
            out[n] = "\n".join(lines[i:end])
    return out


def parse_cross_domain(text):
    """Rows "A -> B  numbers..." after a "Cross-domain" line, keyed (A, B), with their numbers
    matched to the nearest header above that names "accuracy"."""
    low = text.lower()
    at = low.find("cross-domain")
    if at < 0:
        return {}
    lines = text[at:].splitlines()
    out = {}
    for i, line in enumerate(lines):
        m = re.match(r"\s*(\w+)\s*->\s*(\w+)\s+(.*)$", line)
        if not m:
            continue
        out[(m.group(1).lower(), m.group(2).lower())] = parse_row([l for l in lines[:i] if "accuracy" in l.lower()]
                                                                  + ["row " + m.group(3)], "row")
    return out


def fmt(v, kind):
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "?" if kind != "auc" else "—"
    if kind == "pct":
        return f"{100 * v:.2f} %"
    if kind == "rate":
        return f"{v:,.0f}"
    return f"{v:.4f}"


def table(rows, markdown, rates=True):
    head = ["tool", "accuracy", "precision", "recall", "F1", "MCC", "AUC", "train rec/s", "classify rec/s (1 core)"]
    kinds = [None, "pct", "pct", "pct", "num", "num", "auc", "rate", "rate"]
    keys = [None, "accuracy", "precision", "recall", "f1", "mcc", "auc", "train_rps", "classify_rps"]
    if not rates:
        head, kinds, keys = head[:-2], kinds[:-2], keys[:-2]
    body = [[r["tool"]] + [fmt(r.get(k), kd) for k, kd in zip(keys[1:], kinds[1:])] for r in rows]
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
        out += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(out)
    w = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells))
    return "\n".join([line(head), line(["-" * n for n in w])] + [line(b) for b in body])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shopguard", required=True, help="shopguard eval's text output")
    ap.add_argument("--sklearn", required=True, help="text_baselines.py --json output")
    ap.add_argument("--markdown", action="store_true", help="Markdown tables")
    a = ap.parse_args()
    try:
        with open(a.shopguard, encoding="utf-8") as f:
            sg = parse_shopguard(f.read())
        with open(a.sklearn, encoding="utf-8") as f:
            sk = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"compare.py: {e}")

    if "polarities" in sk:
        with open(a.shopguard, encoding="utf-8") as f:
            reviews(f.read(), sk, a.markdown)
        return
    rows = [dict(sg["pooled"], tool="shopguard", train_rps=sg.get("train_rps"), classify_rps=sg.get("classify_rps"))]
    single = None
    for s in sk.get("settings", []):
        p = s["pooled"]
        name = "sklearn C=1" if s["setting"] == "C=1" else \
            "sklearn nested C (" + ",".join(f"{c:g}" for c in s["chosen_c"]) + ")"
        rows.append(dict(p, tool=name, auc=p.get("auc_concatenated")))
        if s["setting"] == "C=1":
            single = p.get("classify_single_rps")
    print(f"{sk.get('task_title', sk.get('task'))}: {sk.get('n')} records, {sk.get('positives')} "
          f"{sk.get('positive_class')}; pooled over {sk.get('k')} folds, {sk.get('folds_source')}.")
    print()
    print(table(rows, a.markdown))
    if sg.get("throughput_line"):
        print()
        print("shopguard said: " + sg["throughput_line"])
    for s in sk.get("settings", []):
        p = s["pooled"]
        if p.get("classify_rps_cpu"):
            print(f"sklearn {s['setting']} by CPU time (less sensitive to other work on the machine): "
                  f"classify {p['classify_rps_cpu']:,.0f} rec/s, train {p['train_rps_cpu']:,.0f} rec/s.")
    if single:
        print()
        print(f"sklearn classifying one record per call (C=1): {single:,.0f} rec/s on one core "
              f"(the table's sklearn rates are batch: one transform per test fold).")
    ps = sk.get("paper_split")
    if ps and sg["split"]:
        print()
        print(f"The paper's split (first 30 % trains: {ps['n_train']}; {ps['n_test']} test):")
        print()
        srows = [dict(sg["split"], tool="shopguard")]
        for name in ("C=1", "nested"):
            if name in ps:
                srows.append(dict(ps[name], tool=f"sklearn {'C=1' if name == 'C=1' else 'nested C=%g' % ps[name]['C']}"))
        print(table(srows, a.markdown, rates=False))


def reviews(text, sk, markdown):
    """The reviews comparison: one table per polarity, then the cross-domain table."""
    secs = sections(text, [p["polarity"] + " reviews" for p in sk["polarities"]])
    for n, pk in enumerate(sk["polarities"]):
        pol = pk["polarity"]
        sec = secs.get(pol + " reviews", "")
        sg = parse_shopguard(sec) if sec else {"pooled": {}}
        rows = [dict(sg["pooled"], tool="shopguard", train_rps="n/a", classify_rps="n/a")]
        single = None
        for s in pk.get("settings", []):
            p = s["pooled"]
            name = "sklearn C=1" if s["setting"] == "C=1" else \
                "sklearn nested C (" + ",".join(f"{c:g}" for c in s["chosen_c"]) + ")"
            rows.append(dict(p, tool=name, auc=p.get("auc_concatenated")))
            if s["setting"] == "C=1":
                single = p.get("classify_single_rps")
        if n:
            print()
        print(f"{pk.get('task_title')}: {pk.get('n')} reviews, {pk.get('positives')} "
              f"{pk.get('positive_class')}; pooled over {pk.get('k')} folds, {pk.get('folds_source')}.")
        if not sec:
            print(f"(no '{pol} reviews' section in shopguard's output)")
        pub = re.search(r"published ([^;:]*?\))", sec)
        if pub:
            print(f"Published: {pub.group(1)}.")
        print()
        print(table(rows, markdown))
        for s in pk.get("settings", []):
            p = s["pooled"]
            if p.get("classify_rps_cpu"):
                print(f"sklearn {s['setting']} by CPU time: classify {p['classify_rps_cpu']:,.0f} rec/s, "
                      f"train {p['train_rps_cpu']:,.0f} rec/s.")
        if single:
            print(f"sklearn classifying one review per call (C=1): {single:,.0f} rec/s on one core.")
        print("shopguard eval content prints no throughput (n/a).")
    cd = sk.get("cross_domain")
    if cd:
        sgcd = parse_cross_domain(text)
        print()
        print("Cross-domain: trained on every review of one polarity, tested on every review of the other.")
        print()
        rows = []
        for row in cd:
            key = (row["train"], row["test"])
            label = f"{row['train']} -> {row['test']}"
            rows.append(dict(sgcd.get(key, {}), tool=f"{label}: shopguard"))
            for name in ("C=1", "nested"):
                if name in row:
                    r = row[name]
                    rows.append(dict(r, tool=f"{label}: sklearn " + ("C=1" if name == "C=1" else f"nested C={r['C']:g}")))
        print(table(rows, markdown, rates=False))


if __name__ == "__main__":
    main()
