#!/usr/bin/python3
"""scikit-learn baselines beside shopguard's bot score, on the rows `shopguard eval traffic --export` writes.

Trains scikit-learn's HistGradientBoostingClassifier (the settings of shopguard's
model: 300 trees of 15 leaves, depth 6, learning rate 0.1, 50 rows a leaf, L2 1)
and a LogisticRegression (median imputation with missing-value indicators,
standardised) on the same train rows with the same weights (people and bots
weigh the same at every position in a session, as botscore's balance does),
calibrates both with Platt scaling on the valid rows (as shopguard does), scores
every request of the test sessions from 0 to 100 and prints the measurements
`shopguard eval traffic` prints, for them and for the score columns of the file
(shopguard's model and the rule), computed here with scikit-learn's metrics.

Usage: python3 bench/botscore/baseline.py ROWS.csv [--json FILE]
Needs Debian's python3-sklearn (and python3-numpy).

CSV columns: split (train|valid|test), session, persona, label (1: bot),
request (number in the session, from 0), sampled (1: a measured row), the 16
features (empty: undefined), then score_NAME per scorer. Rows of a session are
consecutive and in request order.
"""
import argparse
import array
import json
import math
import os
import platform
import sys
import time

DEBIAN_PYTHON = "/usr/bin/python3"

try:
    import numpy as np
    import sklearn
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, precision_recall_fscore_support, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
except ImportError:
    # A pyenv/venv python3 on PATH does not see Debian's dist-packages.
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
        print(f"baseline.py: re-running under {DEBIAN_PYTHON} (needs Debian's python3-sklearn)", file=sys.stderr)
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    raise

NUM_FEATURES = 16
SPLITS = {"train": 0, "valid": 1, "test": 2}
THRESHOLDS = (50, 70, 90)
# The personas in the order of botscore.PersonaNames (others follow).
PERSONAS = ("human_new", "human_returning", "human_cached", "human_mobile", "human_nat", "human_challenged", "human_app",
            "bot_flood", "bot_scraper", "bot_scraper_slow", "bot_headless", "bot_stuffer", "bot_card_tester", "bot_scanner",
            "bot_api", "bot_mismatch", "bot_imitator")


def load(path):
    """Reads the export into numpy arrays (column by column, to keep memory low)."""
    with open(path) as f:
        header = f.readline().rstrip("\n").split(",")
        if header[:6] != ["split", "session", "persona", "label", "request", "sampled"]:
            sys.exit(f"{path}: unexpected header {header[:6]}")
        features = header[6:6 + NUM_FEATURES]
        score_names = [h[len("score_"):] for h in header[6 + NUM_FEATURES:]]
        split, label, sampled = array.array("b"), array.array("b"), array.array("b")
        session, request = array.array("l"), array.array("l")
        X = array.array("d")
        scores = [array.array("h") for _ in score_names]
        personas, persona_of = [], {}
        persona = array.array("h")
        nan = math.nan
        for line in f:
            p = line.rstrip("\n").split(",")
            split.append(SPLITS[p[0]])
            session.append(int(p[1]))
            if p[2] not in persona_of:
                persona_of[p[2]] = len(personas)
                personas.append(p[2])
            persona.append(persona_of[p[2]])
            label.append(int(p[3]))
            request.append(int(p[4]))
            sampled.append(int(p[5]))
            X.extend([float(v) if v else nan for v in p[6:6 + NUM_FEATURES]])
            for k, v in enumerate(p[6 + NUM_FEATURES:]):
                scores[k].append(int(v))
    d = dict(split=np.frombuffer(split, dtype=np.int8), session=np.frombuffer(session, dtype=np.int64),
             persona=np.frombuffer(persona, dtype=np.int16), label=np.frombuffer(label, dtype=np.int8),
             request=np.frombuffer(request, dtype=np.int64), sampled=np.frombuffer(sampled, dtype=np.int8).astype(bool),
             X=np.frombuffer(X, dtype=np.float64).reshape(-1, NUM_FEATURES))
    d["scores"] = {n: np.frombuffer(s, dtype=np.int16).astype(np.int64) for n, s in zip(score_names, scores)}
    d["features"], d["personas"] = features, personas
    return d


def bucket(i):
    """botscore's positionBucket: the first 8 requests one by one, then doubling ranges."""
    return i if i < 8 else min(5 + int(i).bit_length(), 13)


def balance(request, y):
    """botscore's balance: people and bots weigh the same in each position bucket."""
    b = np.array([bucket(int(i)) for i in request])
    w = np.ones(len(y))
    for k in np.unique(b):
        m = b == k
        n1 = int(y[m].sum())
        n0 = int(m.sum()) - n1
        if n0 and n1:
            w[m & (y == 1)] = (n0 + n1) / (2 * n1)
            w[m & (y == 0)] = (n0 + n1) / (2 * n0)
    return w


def measure(name, score, d, te):
    """The measurements of `shopguard eval traffic` for one scorer's scores of the test requests."""
    y = d["label"][te].astype(int)
    sampled = d["sampled"][te]
    session, request, persona = d["session"][te], d["request"][te], d["persona"][te]
    res = {"name": name, "roc_auc": roc_auc_score(y[sampled], score[sampled]),
           "pr_auc": average_precision_score(y[sampled], score[sampled]), "at": {}}
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    s_bot, s_persona = y[starts], persona[starts]
    for th in THRESHOLDS:
        pred = score[sampled] >= th
        p, r, f1, _ = precision_recall_fscore_support(y[sampled], pred, average="binary", zero_division=0)
        first = np.minimum.reduceat(np.where(score >= th, request, np.iinfo(np.int64).max), starts)
        caught = first != np.iinfo(np.int64).max
        at = {"precision": p, "recall": r, "f1": f1,
              "people_flagged": caught[s_bot == 0].mean(), "bots_caught": caught[s_bot == 1].mean(),
              "median_catch": float(np.median(first[caught & (s_bot == 1)] + 1)) if (caught & (s_bot == 1)).any() else math.nan,
              "personas": {}}
        for k, pname in enumerate(d["personas"]):
            m = s_persona == k
            mc = first[m & caught] + 1
            at["personas"][pname] = {"sessions": int(m.sum()), "flagged": float(caught[m].mean()) if m.any() else math.nan,
                                     "median_catch": float(np.median(mc)) if len(mc) else math.nan}
        res["at"][th] = at
    return res


def pct(v):
    return "-" if v != v else f"{100 * v:.1f}%"


def med(v):
    return "-" if v != v else f"{v:g}"


def report(results, d, te):
    print(f"{'scorer':>14}  {'ROC AUC':>8}  {'PR AUC':>8}")
    for r in results:
        print(f"{r['name']:>14}  {r['roc_auc']:8.4f}  {r['pr_auc']:8.4f}")
    print()
    print(f"{'threshold':>9}  {'scorer':>14}  {'precision':>9}  {'recall':>7}  {'F1':>7}  {'people flagged':>14}  {'bots caught':>11}  {'median catch':>12}")
    for th in THRESHOLDS:
        for r in results:
            a = r["at"][th]
            print(f"{th:>9}  {r['name']:>14}  {a['precision']:9.4f}  {a['recall']:7.4f}  {a['f1']:7.4f}  {pct(a['people_flagged']):>14}  "
                  f"{pct(a['bots_caught']):>11}  {med(a['median_catch']):>12}")
    rank = {p: i for i, p in enumerate(PERSONAS)}
    order = sorted(range(len(d["personas"])), key=lambda k: (d["personas"][k].startswith("bot_"), rank.get(d["personas"][k], len(rank)), k))
    for bot in (False, True):
        print("\nbots' sessions caught (median requests until caught), per persona:" if bot else
              "\npeople's sessions flagged (false positives), per persona:")
        cols = [f"{r['name']}@{th}" for r in results for th in THRESHOLDS]
        print(f"{'persona':>18}  {'sessions':>8}  " + "  ".join(f"{c:>16}" for c in cols))
        for k in order:
            pname = d["personas"][k]
            if pname.startswith("bot_") != bot:
                continue
            cells = []
            for r in results:
                for th in THRESHOLDS:
                    q = r["at"][th]["personas"][pname]
                    cells.append(pct(q["flagged"]) + (f" ({med(q['median_catch'])})" if bot else ""))
            n = results[0]["at"][THRESHOLDS[0]]["personas"][pname]["sessions"]
            print(f"{pname:>18}  {n:>8}  " + "  ".join(f"{c:>16}" for c in cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--json", help="also write the measurements here")
    a = ap.parse_args()

    t0 = time.perf_counter()
    d = load(a.csv)
    tr, va, te = d["split"] == 0, d["split"] == 1, d["split"] == 2
    X, y = d["X"], d["label"].astype(int)
    print(f"{a.csv}: {len(y)} rows ({tr.sum()} train, {va.sum()} valid, {te.sum()} test requests of "
          f"{len(np.unique(d['session'][te]))} test sessions), loaded in {time.perf_counter() - t0:.1f}s; "
          f"scikit-learn {sklearn.__version__}, Python {platform.python_version()}\n")
    w = balance(d["request"][tr], y[tr])

    learners = {
        "sklearn_hgb": HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, max_leaf_nodes=15, max_depth=6,
                                                      min_samples_leaf=50, l2_regularization=1.0, max_bins=255,
                                                      early_stopping=False, random_state=0),
        "sklearn_logreg": make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler(),
                                        LogisticRegression(max_iter=2000)),
    }
    results = [measure(n, s[te], d, te) for n, s in d["scores"].items()]
    for name, est in learners.items():
        t0 = time.perf_counter()
        if name == "sklearn_logreg":
            est.fit(X[tr], y[tr], logisticregression__sample_weight=w)
        else:
            est.fit(X[tr], y[tr], sample_weight=w)
        fit_s = time.perf_counter() - t0
        cal = CalibratedClassifierCV(est, method="sigmoid", cv="prefit").fit(X[va], y[va])
        score = np.floor(100 * cal.predict_proba(X[te])[:, 1] + 0.5).astype(np.int64)
        res = measure(name, score, d, te)
        res["fit_seconds"] = fit_s
        print(f"{name}: fitted in {fit_s:.1f}s", file=sys.stderr)
        results.append(res)
    report(results, d, te)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1, default=float)


if __name__ == "__main__":
    main()
