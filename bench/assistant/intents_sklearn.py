#!/usr/bin/python3
"""Baseline for `shopguard eval intents`: Debian's scikit-learn on the same
split (the built-in training set, the held-out test set).

TF-IDF over character 2-5-grams (within word boundaries) and word 1-2-grams,
sublinear term frequency, then a multinomial logistic regression and a
linear SVM, each with C chosen by 5-fold cross-validation on the training
set only. Prints top-1 accuracy and macro F1 on the test set.

    /usr/bin/python3 bench/assistant/intents_sklearn.py \
        internal/assistant/intents/train.tsv internal/assistant/testdata/intents_test.tsv
"""
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC


def read(path):
    xs, ys = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line or line.startswith("#"):
                continue
            intent, text = line.split("\t", 1)
            xs.append(text)
            ys.append(intent)
    return xs, ys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: intents_sklearn.py TRAIN.tsv TEST.tsv")
    xtr, ytr = read(sys.argv[1])
    xte, yte = read(sys.argv[2])
    seen = set(xtr)
    if any(x in seen for x in xte):
        sys.exit("a test utterance is also in the training set")
    import sklearn
    print(f"scikit-learn {sklearn.__version__}: {len(xtr)} training, {len(xte)} test utterances")
    for name, clf, grid in [
        ("logistic regression", LogisticRegression(max_iter=5000), {"clf__C": [1, 3, 10, 30, 100]}),
        ("linear SVM", LinearSVC(), {"clf__C": [0.1, 0.3, 1, 3, 10]}),
    ]:
        feats = FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)),
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True,
                                      token_pattern=r"(?u)\b\w+\b")),
        ])
        pipe = Pipeline([("feats", feats), ("clf", clf)])
        search = GridSearchCV(pipe, grid, cv=5, scoring="accuracy", n_jobs=1)
        t0 = time.time()
        search.fit(xtr, ytr)
        trained = time.time() - t0
        pred = search.predict(xte)
        print(f"{name:20s} C={search.best_params_['clf__C']:<5} accuracy {accuracy_score(yte, pred):.4f}  "
              f"macro F1 {f1_score(yte, pred, average='macro'):.4f}  (grid search and fit {trained:.1f} s)")


if __name__ == "__main__":
    main()
