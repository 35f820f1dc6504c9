"""Benchmark: geography resolution on N synthetic listings (default 1,000,000).

Run: ``.venv/bin/python bench/geo_bench.py [N]``. Prints wall time, rows per second and peak RSS;
record the figures in docs/benchmarks.md with the machine and date.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np
import pandas as pd

from aggregator import reference
from aggregator.normalise import geo


def workload(n: int, seed: int = 1) -> pd.DataFrame:
    """Listings whose evidence mixes INSEE codes, postal codes, names, text, coordinates and nothing."""
    rng = np.random.default_rng(seed)
    postal = reference.postal_codes().sample(n, replace=True, random_state=seed).reset_index(drop=True)
    communes = reference.communes()
    communes = communes[communes["type"] == "COM"].sample(n, replace=True, random_state=seed + 1).reset_index(drop=True)
    deps = reference.departements()
    kind = rng.choice(["postal", "insee", "city", "dep", "region", "coords", "none"], size=n,
                      p=[0.5, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05])  # fmt: skip
    frame = pd.DataFrame(index=range(n), columns=["commune_insee", "postal_code", "city", "departement", "region",
                                                  "latitude", "longitude"], dtype="object")  # fmt: skip
    m = kind == "postal"
    frame.loc[m, "postal_code"] = postal.loc[m, "postal_code"].to_numpy()
    frame.loc[m, "city"] = postal.loc[m, "poste_name"].str.title().to_numpy()
    m = kind == "insee"
    frame.loc[m, "commune_insee"] = communes.loc[m, "commune_insee"].to_numpy()
    m = kind == "city"
    frame.loc[m, "city"] = communes.loc[m, "name"].to_numpy()
    m = kind == "dep"
    frame.loc[m, "departement"] = rng.choice(deps["departement_name"].to_numpy(), size=int(m.sum()))
    m = kind == "region"
    frame.loc[m, "region"] = rng.choice(
        ["IDF", "PACA", "Nouvelle Aquitaine", "Bretagne", "Occitanie"], size=int(m.sum())
    )
    m = kind == "coords"
    frame.loc[m, "latitude"] = (communes.loc[m, "latitude"] + rng.normal(0, 0.01, int(m.sum()))).astype(str).to_numpy()
    frame.loc[m, "longitude"] = (
        (communes.loc[m, "longitude"] + rng.normal(0, 0.01, int(m.sum()))).astype(str).to_numpy()
    )
    return frame


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    frame = workload(n)
    geo.resolve(frame.head(10))  # load the reference tables outside the timing
    started = time.perf_counter()
    out = geo.resolve(frame)[0]
    elapsed = time.perf_counter() - started
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    resolved = out["region_code"].notna().mean()
    print(f"geo.resolve: {n:,} listings in {elapsed:.1f} s ({n / elapsed:,.0f} rows/s), "
          f"peak RSS {peak_gib:.2f} GiB, resolved to a region: {resolved:.1%}")  # fmt: skip
    print(out["geo_precision"].value_counts().to_string())


if __name__ == "__main__":
    main()
