#!/usr/bin/python3
"""scikit-learn TF-IDF + LinearSVC baselines for shopguard's text classifiers.

Runs on the same cross-validation folds as `shopguard eval messages|urls --folds-out FILE`
and prints, per fold and pooled, accuracy, precision, recall, F1 and MCC of the positive
class (spam for messages, phishing for URLs), ROC AUC from decision_function, training
throughput (records/s, vectorizer fit+transform included) and classification throughput
on one core (vectorizer transform + decision_function on the test fold, records/s).

Two settings of LinearSVC's C are reported:
  C=1     the library default;
  nested  C chosen on each outer training set only, by an inner stratified 3-fold grid
          search over --grid (default 0.1,0.3,1,3,10) maximising accuracy; the chosen C is
          refitted on the whole outer training set. The test fold is never looked at.

Tasks:
  messages  SMS Spam Collection, `label<TAB>text` (ham/spam); TfidfVectorizer(word 1-2-grams,
            sublinear_tf=True). Also the paper's split: the first 30 % of the file trains,
            the rest tests (Almeida et al., DocEng 2011).
  urls      `url,status` CSV with a header (legitimate/phishing, Hannousse & Yahiouche 2021);
            TfidfVectorizer(analyzer='char', ngram_range=(1, 5), sublinear_tf=True).
  reviews   Deceptive opinion spam corpus v1.4 (Ott et al. 2011, 2013), a directory (--data)
            with positive_polarity and negative_polarity, each holding deceptive_* and
            truthful_* directories of fold1..fold5 text files; deceptive is positive.
            TfidfVectorizer(word 1-2-grams, sublinear_tf=True). Folds: the corpus's own
            (foldN directories), as `shopguard eval content` uses them, so no fold file.
            --polarity positive|negative runs one polarity; without it both run, plus
            the cross-domain check (train on all of one polarity, test on the other).

Folds: --folds FILE holds one 0-based fold number per line, line i for record i of the data
file in file order (the header excluded). Without --folds the script uses
StratifiedKFold(n_splits=--k, shuffle=True, random_state=--seed), which is NOT the folds
shopguard uses.

Usage: /usr/bin/python3 bench/sklearn/text_baselines.py --task messages|urls [--data FILE]
           [--folds FOLDFILE] [--seed 1] [--k 5] [--grid 0.1,0.3,1,3,10] [--json OUT.json]
           [--no-nested] [--single N]
       /usr/bin/python3 bench/sklearn/text_baselines.py --task reviews [--data DIR]
           [--polarity positive|negative] [--seed 1] [--grid ...] [--json OUT.json]
           [--no-nested] [--single N]

Needs Debian's python3-sklearn (apt-get install -y python3-sklearn) and runs under
/usr/bin/python3: a pyenv or venv python3 on PATH does not see Debian's dist-packages, so
the script re-executes itself under /usr/bin/python3 when scikit-learn is missing.
"""
import os

# Pin every thread pool to one thread before numpy/scipy load: throughput is per core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import csv
import json
import math
import platform
import sys
import time
import warnings

DEBIAN_PYTHON = "/usr/bin/python3"

try:
    import numpy as np
    import scipy
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
        print(f"text_baselines.py: re-running under {DEBIAN_PYTHON} (needs Debian's python3-sklearn)", file=sys.stderr)
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    sys.exit("text_baselines.py: scikit-learn not found; apt-get install -y python3-sklearn and run with /usr/bin/python3")

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # threadpoolctl comes with python3-sklearn; be safe anyway
    threadpool_info = threadpool_limits = None

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_DATA = {
    "messages": os.path.join(REPO, "..", "shared", "data", "messages", "SMSSpamCollection"),
    "urls": os.path.join(REPO, "..", "shared", "data", "urls", "hannousse-yahiouche-urls",
                         "dataset_phishing.url_status.csv"),
    "reviews": os.path.join(REPO, "..", "shared", "data", "reviews", "op_spam_v1.4"),
}
POSITIVE = {"messages": "spam", "urls": "phishing", "reviews": "deceptive"}
POLARITIES = ("positive", "negative")
REVIEW_FOLDS = 5
INNER_FOLDS = 3


class DataError(Exception):
    """Bad input: the message names the file and what was wrong."""


# ---------------------------------------------------------------- data


def load_messages(path):
    """SMS Spam Collection: one record per line, `ham|spam<TAB>text`."""
    texts, labels = [], []
    # newline="\n": split on LF only and drop a CR before it, as Go's bufio.ScanLines does.
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.endswith("\r"):
                line = line[:-1]
            label, sep, text = line.partition("\t")
            if not sep or label not in ("ham", "spam"):
                raise DataError(f"{path}: line {n}: want ham or spam, a tab and the text")
            texts.append(text)
            labels.append(1 if label == "spam" else 0)
    return texts, np.asarray(labels, dtype=np.int8)


def load_urls(path):
    """CSV with a header naming a `url` column and a label column (status, label, class or
    type), read as shopguard's `eval urls` reads it: phishing/phish/malicious/bad/1/true is
    positive, legitimate/benign/good/safe/0/false negative, the URL space-trimmed."""
    pos = {"phishing", "phish", "malicious", "bad", "1", "true"}
    neg = {"legitimate", "benign", "good", "safe", "0", "false"}
    texts, labels = [], []
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        r = csv.reader(f)
        header = next(r, None) or []
        names = [h.lstrip("\ufeff").strip().lower() for h in header]
        ucol = names.index("url") if "url" in names else -1
        lcol = next((i for i, h in enumerate(names) if h in ("status", "label", "class", "type")), -1)
        if ucol < 0 or lcol < 0:
            raise DataError(f"{path}: line 1: header {header!r}: want a url column and a status column")
        for rec in r:
            if not rec:
                continue
            if len(rec) <= max(ucol, lcol):
                raise DataError(f"{path}: line {r.line_num}: {len(rec)} fields, want at least {max(ucol, lcol) + 1}")
            label, url = rec[lcol].strip().lower(), rec[ucol].strip()
            if label not in pos and label not in neg:
                raise DataError(f"{path}: line {r.line_num}: label {label!r}: want phishing or legitimate")
            if not url:
                raise DataError(f"{path}: line {r.line_num}: empty url")
            texts.append(url)
            labels.append(1 if label in pos else 0)
    return texts, np.asarray(labels, dtype=np.int8)


def load_reviews(root, polarity):
    """One polarity of the deceptive opinion spam corpus, read as shopguard's `eval content`
    reads it: ROOT/POLARITY_polarity/{deceptive*,truthful*}/fold1..fold5/* files, each strict
    UTF-8 of at most 1 MiB, whitespace-trimmed. Returns texts, labels (deceptive = 1) and the
    0-based fold of each review (foldN -> N-1). Files are taken in name order."""
    pdir = os.path.join(root, polarity + "_polarity")
    texts, labels, folds = [], [], []
    for cl in sorted(os.listdir(pdir)):
        deceptive = cl.startswith("deceptive")
        if not os.path.isdir(os.path.join(pdir, cl)) or not (deceptive or cl.startswith("truthful")):
            continue
        for f in range(1, REVIEW_FOLDS + 1):
            fdir = os.path.join(pdir, cl, f"fold{f}")
            if not os.path.isdir(fdir):
                raise DataError(f"{fdir}: missing; want fold1..fold{REVIEW_FOLDS} under {cl}")
            for name in sorted(os.listdir(fdir)):
                fp = os.path.join(fdir, name)
                if os.path.isdir(fp):
                    continue
                with open(fp, "rb") as fh:
                    b = fh.read((1 << 20) + 1)
                if len(b) > 1 << 20:
                    raise DataError(f"{fp}: longer than {1 << 20} bytes")
                try:
                    t = b.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DataError(f"{fp}: not UTF-8 text ({e.reason} at byte {e.start})") from None
                texts.append(t.strip())
                labels.append(1 if deceptive else 0)
                folds.append(f - 1)
    y = np.asarray(labels, dtype=np.int8)
    if not len(y) or y.sum() == 0 or y.sum() == len(y):
        raise DataError(f"{pdir}: want deceptive_* and truthful_* directories with fold1..fold{REVIEW_FOLDS}; "
                        f"found {len(y)} reviews, {int(y.sum())} deceptive")
    return texts, y, np.asarray(folds, dtype=np.int32)


def read_folds(path, n):
    """One 0-based fold number per line, one line per record."""
    folds = []
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            s = line.strip()
            if not s:
                raise DataError(f"--folds {path}: line {ln}: empty; want a 0-based fold number")
            try:
                v = int(s)
            except ValueError:
                raise DataError(f"--folds {path}: line {ln}: {s!r} is not a fold number") from None
            if v < 0:
                raise DataError(f"--folds {path}: line {ln}: negative fold {v}")
            folds.append(v)
    if len(folds) != n:
        raise DataError(f"--folds {path}: {len(folds)} lines for {n} records in the data file")
    folds = np.asarray(folds, dtype=np.int32)
    k = int(folds.max()) + 1
    missing = sorted(set(range(k)) - set(folds.tolist()))
    if k < 2 or missing:
        raise DataError(f"--folds {path}: folds 0..{k - 1} with {missing or 'only one fold'} empty")
    return folds, k


# ---------------------------------------------------------------- metrics


def confusion(pred, y):
    pred, y = np.asarray(pred, dtype=bool), np.asarray(y, dtype=bool)
    return {"tp": int(np.sum(pred & y)), "fp": int(np.sum(pred & ~y)),
            "tn": int(np.sum(~pred & ~y)), "fn": int(np.sum(~pred & y))}


def add(a, b):
    return {k: a[k] + b[k] for k in a}


def rates(c):
    """Accuracy, precision, recall, F1 and MCC as shopguard's text.Confusion defines them
    (a ratio with a zero denominator is 0)."""
    tp, fp, tn, fn = (float(c[k]) for k in ("tp", "fp", "tn", "fn"))
    div = lambda a, b: a / b if b else 0.0
    p, r = div(tp, tp + fp), div(tp, tp + fn)
    d = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {"accuracy": div(tp + tn, tp + fp + tn + fn), "precision": p, "recall": r,
            "f1": div(2 * p * r, p + r), "mcc": div(tp * tn - fp * fn, d), **c}


def auc(y, scores):
    return float(roc_auc_score(y, scores)) if 0 < int(np.sum(y)) < len(y) else float("nan")


# ---------------------------------------------------------------- models


def vectorizer(task):
    if task in ("messages", "reviews"):
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True)


def svc(c):
    # dual=True is the 1.2 default (stated so later versions do not warn); random_state
    # fixes liblinear's coordinate order, so runs repeat exactly.
    return LinearSVC(C=c, dual=True, random_state=0)


def select_c(task, texts, y, grid, seed):
    """Inner stratified 3-fold grid search on one outer training set; returns the C with
    the best mean inner accuracy (ties: the smaller C) and the mean accuracy per C."""
    inner = StratifiedKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=seed)
    acc = np.zeros(len(grid))
    for tr, va in inner.split(np.zeros(len(y)), y):
        vec = vectorizer(task)  # the vectorizer does not depend on C: fit once per inner fold
        xtr = vec.fit_transform([texts[i] for i in tr])
        xva = vec.transform([texts[i] for i in va])
        for j, c in enumerate(grid):
            pred = svc(c).fit(xtr, y[tr]).decision_function(xva) > 0
            acc[j] += np.mean(pred == y[va].astype(bool)) / INNER_FOLDS
    best = int(np.argmax(acc))  # first maximum = smallest C, grid is sorted
    return grid[best], acc.tolist()


def train(task, texts, y, c):
    vec = vectorizer(task)
    x = vec.fit_transform(texts)
    clf = svc(c).fit(x, y)
    return vec, clf


def classify(vec, clf, texts):
    return clf.decision_function(vec.transform(texts))


def single_rate(vec, clf, texts, n):
    """Records/s when each record is classified on its own (one transform + decision per
    record, as a service would call it), over the first n test records."""
    sample = texts[:n]
    if not sample:
        return float("nan")
    start = time.perf_counter()
    for t in sample:
        clf.decision_function(vec.transform([t]))
    return len(sample) / (time.perf_counter() - start)


def run_setting(name, task, texts, y, folds, k, grid, seed, single, log):
    """Cross-validation with C=1 (grid None) or nested selection of C."""
    res = {"setting": name, "folds": [], "chosen_c": []}
    pooled = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    scores_all = np.zeros(len(y))
    train_n = train_wall = train_cpu = 0.0
    test_n = test_wall = test_cpu = 0.0
    single_rates = []
    for f in range(k):
        tr, te = np.nonzero(folds != f)[0], np.nonzero(folds == f)[0]
        ttr, tte = [texts[i] for i in tr], [texts[i] for i in te]
        w0, c0 = time.perf_counter(), time.process_time()
        inner = None
        if grid is None:
            c = 1.0
        else:
            c, inner = select_c(task, ttr, y[tr], grid, seed + f)
        vec, clf = train(task, ttr, y[tr], c)
        w1, c1 = time.perf_counter(), time.process_time()
        s = classify(vec, clf, tte)
        w2, c2 = time.perf_counter(), time.process_time()
        if single:
            single_rates.append(single_rate(vec, clf, tte, single))
        scores_all[te] = s
        conf = confusion(s > 0, y[te])
        pooled = add(pooled, conf)
        row = rates(conf)
        row.update({"fold": f, "n_train": len(tr), "n_test": len(te), "C": c,
                    "auc": auc(y[te], s), "vocabulary": len(vec.vocabulary_),
                    "train_s": w1 - w0, "classify_s": w2 - w1,
                    "train_rps": len(tr) / (w1 - w0), "classify_rps": len(te) / (w2 - w1)})
        if inner is not None:
            row["inner_accuracy"] = dict(zip([str(g) for g in grid], inner))
        res["folds"].append(row)
        res["chosen_c"].append(c)
        train_n += len(tr); train_wall += w1 - w0; train_cpu += c1 - c0
        test_n += len(te); test_wall += w2 - w1; test_cpu += c2 - c1
        log(f"  {name}: fold {f} done (C={c:g}, train {w1 - w0:.2f} s, classify {w2 - w1:.3f} s)")
    p = rates(pooled)
    p.update({"auc_concatenated": auc(y, scores_all),
              "auc_mean_of_folds": float(np.mean([r["auc"] for r in res["folds"]])),
              "train_rps": train_n / train_wall, "classify_rps": test_n / test_wall,
              "train_rps_cpu": train_n / train_cpu if train_cpu else float("nan"),
              "classify_rps_cpu": test_n / test_cpu if test_cpu else float("nan"),
              "classify_single_rps": float(np.median(single_rates)) if single_rates else None})
    res["pooled"] = p
    return res


def cross_domain(task, sets, grid, seed):
    """Train on every review of one polarity, test on every review of the other, with C=1
    and with C chosen on the training polarity by the same inner grid."""
    out = []
    for src, dst in ((POLARITIES[0], POLARITIES[1]), (POLARITIES[1], POLARITIES[0])):
        (ttr, ytr), (tte, yte) = sets[src], sets[dst]
        row = {"train": src, "test": dst, "n_train": len(ttr), "n_test": len(tte)}
        for name, g in (("C=1", None), ("nested", grid)):
            if name == "nested" and grid is None:
                continue
            c = 1.0 if g is None else select_c(task, ttr, ytr, g, seed)[0]
            vec, clf = train(task, ttr, ytr, c)
            s = classify(vec, clf, tte)
            r = rates(confusion(s > 0, yte))
            r.update({"C": c, "auc": auc(yte, s)})
            row[name] = r
        out.append(row)
    return out


def paper_split(task, texts, y, grid, seed):
    """First 30 % of the file trains (integer cut as shopguard's: n*3//10), the rest tests."""
    cut = len(texts) * 3 // 10
    out = {"n_train": cut, "n_test": len(texts) - cut}
    for name, g in (("C=1", None), ("nested", grid)):
        if name == "nested" and grid is None:
            continue
        c = 1.0 if g is None else select_c(task, texts[:cut], y[:cut], g, seed)[0]
        vec, clf = train(task, texts[:cut], y[:cut], c)
        s = classify(vec, clf, texts[cut:])
        r = rates(confusion(s > 0, y[cut:]))
        r.update({"C": c, "auc": auc(y[cut:], s)})
        out[name] = r
    return out


# ---------------------------------------------------------------- output


HEAD = f"{'':10} {'accuracy':>9} {'precision':>10} {'recall':>8} {'F1':>8} {'MCC':>8} {'AUC':>8} {'C':>5}"


def fmt_row(name, r, auc_key="auc", c=None):
    cs = "" if c is None else f"{c:g}"
    a = r.get(auc_key, float("nan"))
    return (f"{name:10} {100 * r['accuracy']:8.2f}% {100 * r['precision']:9.2f}% {100 * r['recall']:7.2f}% "
            f"{r['f1']:8.4f} {r['mcc']:8.4f} {a:8.4f} {cs:>5}")


def print_report(rep, out=sys.stdout):
    w = lambda s="": print(s, file=out)
    w(f"{rep['task_title']}: {rep['n']} records, {rep['positives']} {rep['positive_class']}. "
      f"Model: {rep['model']}.")
    where = "the directory foldn" if rep["task"] == "reviews" else "number n-1 in the fold file"
    w(f"Folds: {rep['folds_source']} ({rep['k']} folds; fold n below is {where}).")
    w(f"scikit-learn {rep['versions']['sklearn']}, numpy {rep['versions']['numpy']}, "
      f"scipy {rep['versions']['scipy']}, Python {rep['versions']['python']} ({rep['versions']['executable']}).")
    for s in rep["settings"]:
        title = "C = 1 (default)" if s["setting"] == "C=1" else \
            f"nested: C from {rep['grid']} by inner stratified {INNER_FOLDS}-fold on each outer training set"
        w()
        w(f"LinearSVC, {title}:")
        w()
        w(HEAD)
        for r in s["folds"]:
            w(fmt_row(str(r["fold"] + 1), r, c=r["C"]))
        w(fmt_row("pooled", s["pooled"], auc_key="auc_concatenated"))
        p = s["pooled"]
        w(f"(pooled AUC over the concatenated fold scores; mean of the fold AUCs {p['auc_mean_of_folds']:.4f})")
        single = "" if p["classify_single_rps"] is None else \
            f"; one record per call {p['classify_single_rps']:.0f} {rep['unit']}/s"
        w(f"Throughput on one core: classification {p['classify_rps']:.0f} {rep['unit']}/s "
          f"(transform + decision_function on each test fold, batch{single}); "
          f"training {p['train_rps']:.0f} {rep['unit']}/s (vectorizer fit+transform + LinearSVC"
          f"{' + the inner grid search' if s['setting'] == 'nested' else ''}). "
          f"CPU-time rates: {p['classify_rps_cpu']:.0f} / {p['train_rps_cpu']:.0f}.")
    if rep.get("paper_split"):
        ps = rep["paper_split"]
        w()
        w(f"The paper's split (first 30 % trains: {ps['n_train']} records; {ps['n_test']} test):")
        w()
        w(HEAD)
        for name in ("C=1", "nested"):
            if name not in ps:
                continue
            w(fmt_row("30/70 " + ("C1" if name == "C=1" else "nest"), ps[name], c=ps[name]["C"]))


def print_cross_domain(rows, out=sys.stdout):
    w = lambda s="": print(s, file=out)
    w()
    w("Cross-domain (trained on all reviews of one polarity, tested on the other's; nested: C chosen")
    w(f"by inner stratified {INNER_FOLDS}-fold on the training polarity):")
    w()
    w(f"{'':20} " + HEAD)
    for row in rows:
        for name in ("C=1", "nested"):
            if name in row:
                label = f"{row['train']} -> {row['test']}"
                w(f"{label:20} " + fmt_row("C=1" if name == "C=1" else "nested", row[name], c=row[name]["C"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", required=True, choices=["messages", "urls", "reviews"])
    ap.add_argument("--data", help="data file, or the corpus directory for reviews "
                                   "(default: ../shared/data/... from the repo root)")
    ap.add_argument("--polarity", choices=list(POLARITIES),
                    help="reviews only: one polarity (default: both, and the cross-domain check)")
    ap.add_argument("--folds", metavar="FOLDFILE",
                    help="one 0-based fold per line, in data-file order (shopguard eval --folds-out)")
    ap.add_argument("--seed", type=int, default=1, help="StratifiedKFold seed without --folds; inner folds' seed")
    ap.add_argument("--k", type=int, default=5, help="folds without --folds (2..20)")
    ap.add_argument("--grid", default="0.1,0.3,1,3,10", help="C values for the nested selection")
    ap.add_argument("--no-nested", action="store_true", help="only C=1 (skip the nested selection)")
    ap.add_argument("--single", type=int, default=500, metavar="N",
                    help="also time one-record-per-call classification on N records per fold (0: off)")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT ('-' for stdout)")
    a = ap.parse_args(argv)

    data = a.data or os.path.normpath(DEFAULT_DATA[a.task])
    try:
        grid = sorted(float(v) for v in a.grid.split(","))
    except ValueError:
        ap.error(f"--grid {a.grid!r}: want comma-separated numbers")
    if not grid or any(not (c > 0 and math.isfinite(c)) for c in grid):
        ap.error(f"--grid {a.grid!r}: C values must be positive")
    if a.single < 0:
        ap.error("--single: want N >= 0")
    log = lambda s: print(s, file=sys.stderr, flush=True)
    if a.task == "reviews":
        if a.folds:
            ap.error("--folds: the reviews task uses the corpus's own fold1..fold5 directories")
        return main_reviews(a, data, grid, log)
    if a.polarity:
        ap.error("--polarity is for --task reviews")
    try:
        texts, y = (load_messages if a.task == "messages" else load_urls)(data)
        if len(texts) < 10 or y.sum() == 0 or y.sum() == len(y):
            raise DataError(f"{data}: {len(texts)} records, {int(y.sum())} positive: need both classes")
        if a.folds:
            folds, k = read_folds(a.folds, len(texts))
            if a.k != 5 and a.k != k:
                log(f"text_baselines.py: --k {a.k} ignored: {a.folds} has {k} folds")
            src = f"from {a.folds} (shared with shopguard)"
        else:
            if not 2 <= a.k <= 20:
                raise DataError(f"--k {a.k}: use 2..20")
            k = a.k
            folds = np.zeros(len(y), dtype=np.int32)
            skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=a.seed)
            for f, (_, te) in enumerate(skf.split(np.zeros(len(y)), y)):
                folds[te] = f
            src = (f"StratifiedKFold(shuffle=True, random_state={a.seed}) - NOT shopguard's folds; "
                   f"pass --folds FILE from `shopguard eval {a.task} --folds-out FILE` to share them")
        for f in range(k):
            if len(np.unique(y[folds != f])) < 2:
                raise DataError(f"fold {f}: its training set holds only one class")
    except (OSError, ValueError, csv.Error, DataError) as e:
        sys.exit(f"text_baselines.py: {e}")

    limits = threadpool_limits(limits=1) if threadpool_limits else None
    warnings.simplefilter("ignore", category=FutureWarning)
    rep = base_report(a, data, grid)
    rep.update({
        "task_title": "SMS Spam Collection" if a.task == "messages" else "Phishing URLs (Hannousse & Yahiouche)",
        "n": len(texts),
        "positives": int(y.sum()),
        "folds_source": src,
        "k": k,
        "settings": [],
    })
    convergence = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category=ConvergenceWarning)
        rep["settings"].append(run_setting("C=1", a.task, texts, y, folds, k, None, a.seed, a.single, log))
        if not a.no_nested:
            rep["settings"].append(run_setting("nested", a.task, texts, y, folds, k, grid, a.seed, a.single, log))
        if a.task == "messages":
            rep["paper_split"] = paper_split(a.task, texts, y, None if a.no_nested else grid, a.seed)
        convergence = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    rep["convergence_warnings"] = len(convergence)
    if limits is not None:
        limits.restore_original_limits()

    print_report(rep)
    finish(a, rep, convergence)


def base_report(a, data, grid):
    """The fields every report shares: task, model, versions, machine, date."""
    return {
        "tool": "scikit-learn",
        "task": a.task,
        "data": os.path.abspath(data),
        "positive_class": POSITIVE[a.task],
        "unit": {"messages": "messages", "urls": "URLs", "reviews": "reviews"}[a.task],
        "model": ("TfidfVectorizer(char 1-5-grams, sublinear_tf) + LinearSVC" if a.task == "urls"
                  else "TfidfVectorizer(word 1-2-grams, sublinear_tf) + LinearSVC"),
        "seed": a.seed,
        "grid": grid,
        "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                     "python": platform.python_version(), "executable": sys.executable},
        "machine": {"nproc": os.cpu_count(), "cpu": _cpu_model(), "platform": platform.platform(),
                    "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
                    "threadpools": [dict(p, filepath=None) for p in threadpool_info()] if threadpool_info else None},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def finish(a, rep, convergence):
    """The convergence note and the --json output."""
    rep["convergence_warnings"] = len(convergence)
    if convergence:
        print(f"\n{len(convergence)} LinearSVC fits did not converge in 1000 iterations "
              f"(liblinear ConvergenceWarning; mostly at large C).")
    if a.json:
        js = json.dumps(rep, indent=1, allow_nan=True)
        if a.json == "-":
            print(js)
        else:
            with open(a.json, "w") as f:
                f.write(js + "\n")


def main_reviews(a, data, grid, log):
    """--task reviews: each polarity cross-validated by the corpus's own folds, then (with
    both polarities) the cross-domain check. The JSON holds one report per polarity under
    "polarities" (each shaped like the other tasks' reports) and "cross_domain"."""
    pols = [a.polarity] if a.polarity else list(POLARITIES)
    try:
        loaded = {p: load_reviews(data, p) for p in pols}
    except (OSError, DataError) as e:
        sys.exit(f"text_baselines.py: {e}")
    limits = threadpool_limits(limits=1) if threadpool_limits else None
    warnings.simplefilter("ignore", category=FutureWarning)
    top = base_report(a, data, grid)
    top.update({"task_title": "Deceptive opinion spam (Ott et al.)", "polarities": []})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category=ConvergenceWarning)
        for p in pols:
            texts, y, folds = loaded[p]
            rep = base_report(a, data, grid)
            rep.update({
                "task_title": f"Deceptive opinion spam (Ott et al.), {p} polarity",
                "polarity": p,
                "n": len(texts),
                "positives": int(y.sum()),
                "folds_source": "the corpus's own fold1..fold5 directories (as shopguard eval content)",
                "k": REVIEW_FOLDS,
                "fold_sizes": np.bincount(folds, minlength=REVIEW_FOLDS).tolist(),
                "settings": [],
            })
            log(f"reviews, {p} polarity: {len(texts)} reviews")
            rep["settings"].append(run_setting("C=1", a.task, texts, y, folds, REVIEW_FOLDS, None, a.seed, a.single, log))
            if not a.no_nested:
                rep["settings"].append(run_setting("nested", a.task, texts, y, folds, REVIEW_FOLDS, grid,
                                                   a.seed, a.single, log))
            top["polarities"].append(rep)
        if len(pols) == 2:
            top["cross_domain"] = cross_domain(a.task, {p: loaded[p][:2] for p in pols},
                                               None if a.no_nested else grid, a.seed)
        convergence = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    if limits is not None:
        limits.restore_original_limits()
    for i, rep in enumerate(top["polarities"]):
        if i:
            print()
            print()
        print_report(rep)
    if top.get("cross_domain"):
        print_cross_domain(top["cross_domain"])
    finish(a, top, convergence)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
