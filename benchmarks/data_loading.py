"""Speed and memory of the dataset loaders, against serial decoding measured in the same run.

Writes a synthetic Kermany-style tree of JPEGs, then times: serial decoding (1 thread, the
baseline), parallel decoding (one thread per core), building the HDF5 cache, a cache hit, and one
streaming pass over the cache; peak Python-tracked memory of an in-memory load is compared with
a streaming pass.

    python benchmarks/data_loading.py --quick
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

from art_medical.data import load_kermany_chest_xray


def write_tree(root: Path, n_per_class: int, side: int, seed: int = 0) -> None:
    """Kermany layout with noisy gradient JPEGs (``side`` x ``side``)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, side)[None, :]
    for cls in ("NORMAL", "PNEUMONIA"):
        folder = root / "chest_xray" / "train" / cls
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            pixels = np.clip(ramp + rng.normal(0, 25, (side, side)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.jpeg", quality=90)


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def peak_mib(function) -> float:
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="300 images of 512 px instead of 1,000 of 1,024 px")
    parser.add_argument("--size", type=int, default=224, help="output size in pixels")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    n_per_class, side = (150, 512) if args.quick else (500, 1024)
    with tempfile.TemporaryDirectory() as tmp:
        root, cache_dir = Path(tmp) / "data", Path(tmp) / "cache"
        write_tree(root, n_per_class, side)
        common = {"size": args.size, "n_train_per_class": n_per_class - 20, "n_test_per_class": 20, "verbose": False}
        _, serial = timed(lambda: load_kermany_chest_xray(root, workers=1, **common))
        _, parallel = timed(lambda: load_kermany_chest_xray(root, workers=args.workers, **common))
        _, build = timed(lambda: load_kermany_chest_xray(root, workers=args.workers, cache_dir=cache_dir, **common))
        _, hit = timed(lambda: load_kermany_chest_xray(root, cache_dir=cache_dir, **common))
        streamed = load_kermany_chest_xray(root, cache_dir=cache_dir, stream=True, **common)
        _, stream_pass = timed(lambda: sum(len(y) for _, y in streamed.train.batches(32)))
        in_memory_peak = peak_mib(lambda: load_kermany_chest_xray(root, cache_dir=cache_dir, **common))
        stream_peak = peak_mib(lambda: sum(len(y) for _, y in streamed.train.batches(32)))
        streamed.train.close()
    n = 2 * n_per_class
    print(f"{n} JPEGs {side}x{side} -> {args.size}x{args.size}x1, {args.workers} worker threads, {os.cpu_count()} cores")
    print(f"{'step':<34}{'seconds':>9}{'images/s':>10}{'vs serial':>11}")
    for step, seconds in (("decode, serial (baseline)", serial), (f"decode, {args.workers} threads", parallel),
                          ("decode + write HDF5 cache", build), ("cache hit (read into memory)", hit),
                          ("one streaming pass (train, bs 32)", stream_pass)):
        print(f"{step:<34}{seconds:>9.2f}{n / seconds:>10.0f}{serial / seconds:>10.1f}x")
    print(f"peak memory: in-memory load {in_memory_peak:.1f} MiB, streaming pass {stream_peak:.1f} MiB "
          f"({in_memory_peak / stream_peak:.0f}x less)")


if __name__ == "__main__":
    main()
