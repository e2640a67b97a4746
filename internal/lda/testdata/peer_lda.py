#!/usr/bin/python3
"""Fit a peer LDA on a matrix written by ldatest.Data.Save and write its
topic-word matrix (K x V float32, little endian) for spot's evaluator.

usage: peer_lda.py sklearn|gensim DIR TOPICS ITERATIONS SEED OUT
Prints "fit_seconds=S" (the fit alone, not loading) on stdout.
"""
import sys
import time

import numpy as np
import scipy.sparse as sp


def load(path):
    with open(path) as f:
        nd, nw, ne = map(int, f.readline().split())
        a = np.loadtxt(f, dtype=np.float64, ndmin=2)
    return sp.csr_matrix((a[:, 2], (a[:, 0].astype(np.int64), a[:, 1].astype(np.int64))), shape=(nd, nw))


def main():
    tool, d, k, iters, seed, out = sys.argv[1:7]
    k, iters, seed = int(k), int(iters), int(seed)
    x = load(d + "/train.txt")
    if tool == "sklearn":
        from sklearn.decomposition import LatentDirichletAllocation
        m = LatentDirichletAllocation(n_components=k, learning_method="batch", max_iter=iters,
                                      random_state=seed, n_jobs=1)
        t = time.perf_counter()
        m.fit(x)
        dt = time.perf_counter() - t
        phi = m.components_
    elif tool == "gensim":
        from gensim.matutils import Sparse2Corpus
        from gensim.models import LdaMulticore
        corpus = Sparse2Corpus(x, documents_columns=False)
        t = time.perf_counter()
        m = LdaMulticore(corpus, num_topics=k, id2word={i: str(i) for i in range(x.shape[1])},
                         passes=iters, workers=2, random_state=seed, chunksize=2000)
        dt = time.perf_counter() - t
        phi = m.get_topics()
    else:
        sys.exit("unknown tool " + tool)
    phi = phi / phi.sum(axis=1, keepdims=True)
    np.asarray(phi, dtype="<f4").tofile(out)
    print("fit_seconds=%.3f" % dt)


main()
