#!/usr/bin/python3
"""XGBoost baseline on the rows `shopguard eval fraud --export-features` writes.

Trains xgboost.XGBClassifier(random_state=0, n_jobs=2, tree_method="hist") on the
train+valid rows and scores the test rows with the Fraud Detection Handbook's
metrics: ROC AUC, average precision and card precision@K (per test day, customers
detected on earlier days are dropped, the day's rows are grouped by customer taking
max score and max label, top K by score; the mean over days).

Usage: python3 bench/ml/baseline.py FEATURES.csv [--name NAME] [--out FILE.json]
                                   [--top-k 100] [--shopguard-log EVAL_OUTPUT.txt]

CSV columns: split (train|valid|test), day (YYYY-MM-DD), customer, label (0/1),
then numeric features; an empty cell is missing (NaN). Needs Debian's
python3-xgboost, python3-sklearn and python3-numpy.
"""
import argparse
import csv
import json
import os
import platform
import re
import sys
import time

DEBIAN_PYTHON = "/usr/bin/python3"

try:
    import numpy as np
    import sklearn
    import xgboost
    from sklearn.metrics import average_precision_score, roc_auc_score
except ImportError:
    # A pyenv/venv python3 on PATH does not see Debian's dist-packages.
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
        print(f"baseline.py: re-running under {DEBIAN_PYTHON} (needs Debian's python3-xgboost)", file=sys.stderr)
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    raise


def load(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        if header[:4] != ["split", "day", "customer", "label"]:
            sys.exit(f"{path}: unexpected header {header[:4]}")
        split, day, cust, label, rows = [], [], [], [], []
        for rec in r:
            split.append(rec[0])
            day.append(rec[1])
            cust.append(rec[2])
            label.append(int(rec[3]))
            rows.append([float(v) if v != "" else np.nan for v in rec[4:]])
    X = np.asarray(rows, dtype=np.float32)
    return header[4:], np.asarray(split), np.asarray(day), np.asarray(cust), np.asarray(label, dtype=np.int32), X


def card_precision_at_k(days, customers, labels, scores, k):
    """The handbook's card_precision_top_k: mean over test days of the share of
    frauded customers among the day's top-k customers, detected ones dropped later."""
    detected = set()
    per_day = []
    for d in sorted(set(days.tolist())):
        idx = np.nonzero(days == d)[0]
        best = {}  # customer -> [max score, max label]
        for i in idx:
            c = customers[i]
            if c in detected:
                continue
            b = best.get(c)
            if b is None:
                best[c] = [scores[i], labels[i]]
            else:
                b[0] = max(b[0], scores[i])
                b[1] = max(b[1], labels[i])
        # pandas groupby orders by customer id; sort by score descending (stable on ties)
        ordered = sorted(best.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else kv[0])
        ordered.sort(key=lambda kv: -kv[1][0])
        caught = [c for c, (_, y) in ordered[:k] if y == 1]
        per_day.append((d, len(caught) / k))
        detected.update(caught)
    return float(np.mean([p for _, p in per_day])), per_day


def shopguard_figures(path):
    """Pick shopguard's own figures out of `shopguard eval fraud` output."""
    text = open(path).read()
    out = {}
    m = re.search(r"ROC AUC ([\d.]+)\s+average precision ([\d.]+)\s+card precision@(\d+) ([\d.]+)", text)
    if m:
        out.update(roc_auc=float(m[1]), average_precision=float(m[2]), top_k=int(m[3]), card_precision_at_k=float(m[4]))
    m = re.search(r"model: (\d+) trees.*?training ([\d.]+)(ms|s), prediction ([\d.]+)(ns|µs|us|ms) per row", text)
    if m:
        out["trees"] = int(m[1])
        out["train_seconds"] = float(m[2]) / (1000 if m[3] == "ms" else 1)
        out["predict_us_per_row"] = float(m[4]) * {"ns": 1e-3, "µs": 1, "us": 1, "ms": 1e3}[m[5]]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--name", help="label for the run (default: CSV file name)")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--top-k", type=int, default=100)
    ap.add_argument("--single-rows", type=int, default=1000, help="rows for the one-row-per-call latency loop")
    ap.add_argument("--repeat", type=int, default=5, help="fits to time (the median is reported)")
    ap.add_argument("--shopguard-log", help="output of the matching `shopguard eval fraud` run, to report alongside")
    a = ap.parse_args()
    name = a.name or os.path.splitext(os.path.basename(a.csv))[0]

    t0 = time.perf_counter()
    features, split, day, cust, y, X = load(a.csv)
    load_s = time.perf_counter() - t0
    tr = (split == "train") | (split == "valid")
    te = split == "test"
    Xtr, ytr, Xte, yte = X[tr], y[tr], X[te], y[te]

    # Training is timed as the median of a.repeat fits: on a shared VM a
    # single fit can be several times slower than usual.
    fits = []
    for _ in range(a.repeat):
        model = xgboost.XGBClassifier(random_state=0, n_jobs=2, tree_method="hist")
        t0 = time.perf_counter()
        model.fit(Xtr, ytr)
        fits.append(time.perf_counter() - t0)
    train_s = sorted(fits)[len(fits) // 2]

    t0 = time.perf_counter()
    p = model.predict_proba(Xte)[:, 1]
    batch_s = time.perf_counter() - t0

    n1 = min(a.single_rows, len(Xte))
    model.predict_proba(Xte[:1])  # warm-up
    t0 = time.perf_counter()
    for i in range(n1):
        model.predict_proba(Xte[i:i + 1])
    single_s = time.perf_counter() - t0

    cp, per_day = card_precision_at_k(day[te], cust[te], yte, p, a.top_k)
    res = {
        "name": name,
        "csv": os.path.abspath(a.csv),
        "features": features,
        "rows": {"train": int(tr.sum()), "test": int(te.sum()), "train_frauds": int(ytr.sum()), "test_frauds": int(yte.sum())},
        "versions": {"python": platform.python_version(), "xgboost": xgboost.__version__,
                     "sklearn": sklearn.__version__, "numpy": np.__version__},
        "model": "xgboost.XGBClassifier(random_state=0, n_jobs=2, tree_method='hist'), other parameters library defaults",
        "n_estimators": int(model.get_booster().num_boosted_rounds()),
        "load_seconds": round(load_s, 3),
        "train_seconds": round(train_s, 3),
        "predict_batch_us_per_row": round(batch_s / len(Xte) * 1e6, 3),
        "predict_single_us_per_call": round(single_s / n1 * 1e6, 1),
        "single_rows": n1,
        "roc_auc": round(float(roc_auc_score(yte, p)), 4),
        "average_precision": round(float(average_precision_score(yte, p)), 4),
        "top_k": a.top_k,
        "card_precision_at_k": round(cp, 4),
        "card_precision_per_day": {d: v for d, v in per_day},
    }
    if a.shopguard_log:
        res["shopguard"] = shopguard_figures(a.shopguard_log)

    js = json.dumps(res, indent=2)
    print(js)
    if a.out:
        with open(a.out, "w") as f:
            f.write(js + "\n")
    line = (f"{name}: xgboost {xgboost.__version__} ROC AUC {res['roc_auc']:.3f}  average precision "
            f"{res['average_precision']:.3f}  card precision@{a.top_k} {cp:.3f}  train {train_s:.2f}s  "
            f"predict {res['predict_batch_us_per_row']:.2f}µs/row batch, {res['predict_single_us_per_call']:.0f}µs/call single")
    sg = res.get("shopguard")
    if sg and "roc_auc" in sg:
        line += (f"  | shopguard ROC AUC {sg['roc_auc']:.3f}  average precision {sg['average_precision']:.3f}  "
                 f"card precision@{sg['top_k']} {sg['card_precision_at_k']:.3f}  train {sg.get('train_seconds', float('nan')):.2f}s  "
                 f"predict {sg.get('predict_us_per_row', float('nan')):.2f}µs/row")
    print(line)


if __name__ == "__main__":
    main()
