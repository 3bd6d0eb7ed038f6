#!/usr/bin/env python3
"""Times alt-profanity-check on messages, for `shield detect bench`'s side-by-side comparison.

Reads JSON lines `{"id": "...", "text": "..."}` on stdin and prints one JSON line:

    {"tool": "alt-profanity-check", "version": ..., "scikit_learn": ..., "load_s": x,
     "messages": n, "batched_messages_per_s": x, "single_messages": n,
     "unbatched_messages_per_s": x, "single_p50_ms": x, "single_p99_ms": x,
     "probabilities": {"<id>": p, ...}}

The workload mirrors the Rust bench: `--repeat R` distinct copies of the messages (each copy's
texts get " <r>" appended) go through one batched `predict_prob` call, and the first `--single N`
of them are timed one call each for p50/p99. `probabilities` are for the messages exactly as
given, so the caller can score them against its labels (the library flags at >= 0.5).

Run it with the venv `scripts/fetch-profanity-check` makes (models/profanity-venv/bin/python).
"""

import argparse
import json
import sys
import time


def percentile(sorted_ms, p):
    # The same rule as the Rust bench: the value at round((n - 1) * p).
    return sorted_ms[int(round((len(sorted_ms) - 1) * p))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--single", type=int, default=300)
    args = ap.parse_args()

    ids, texts = [], []
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ids.append(str(row["id"]))
            texts.append(str(row["text"]))
        except (ValueError, KeyError, TypeError) as e:
            sys.exit(f"profanity_bench.py: standard input, line {n}: {e}")
    if not texts:
        sys.exit("profanity_bench.py: no messages on standard input")

    t = time.perf_counter()
    from importlib.metadata import version

    from profanity_check import predict_prob

    predict_prob(["warm up the vectoriser"])
    load_s = time.perf_counter() - t

    workload = [f"{text} {r}" for r in range(max(args.repeat, 1)) for text in texts]
    single = min(max(args.single, 1), len(workload))
    predict_prob(workload[:64])  # warm-up, as the Rust bench does

    t = time.perf_counter()
    predict_prob(workload)
    batched = len(workload) / (time.perf_counter() - t)

    latencies = []
    t_all = time.perf_counter()
    for text in workload[:single]:
        t = time.perf_counter()
        predict_prob([text])
        latencies.append((time.perf_counter() - t) * 1000.0)
    unbatched = single / (time.perf_counter() - t_all)
    latencies.sort()

    probs = predict_prob(texts)
    out = {
        "tool": "alt-profanity-check",
        "version": version("alt-profanity-check"),
        "scikit_learn": version("scikit-learn"),
        "load_s": load_s,
        "messages": len(workload),
        "batched_messages_per_s": batched,
        "single_messages": single,
        "unbatched_messages_per_s": unbatched,
        "single_p50_ms": percentile(latencies, 0.50),
        "single_p99_ms": percentile(latencies, 0.99),
        "probabilities": {i: float(p) for i, p in zip(ids, probs)},
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
