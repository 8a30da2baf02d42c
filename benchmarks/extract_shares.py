"""Extract the electricity-share benchmark file from Our World in Data's energy-data repository.

    G=<git dir of github.com/owid/energy-data>; C=e34747aefaaffe613130e79b4a52870e51471d10
    git --git-dir=$G show "$C:scripts/grapher/Electricity mix from BP & EMBER (2022).csv" > elec.csv
    git --git-dir=$G show "$C:scripts/input/shared/iso_codes.csv" > iso_codes.csv
    .venv/bin/python benchmarks/extract_shares.py elec.csv iso_codes.csv
    # writes benchmarks/data/owid-electricity-shares.csv (see benchmarks/data/README.md)

Rows of entities without an ISO code in OWID's own table (regions, income groups, and names the
table spells otherwise), or with an OWID_ code (World, Kosovo), are dropped, as are rows where
none of the three shares is given. Shares are percent in the source; each is divided by 100 as
an exact decimal (the source's digits, the point moved two places), nothing else is changed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "owid-electricity-shares.csv"
# source column (percent of electricity generation) -> OWID's name in owid-energy-data.csv
SHARES = {
    "Renewables (% electricity)": "renewables_share_elec",
    "Fossil fuels (% electricity)": "fossil_share_elec",
    "Coal (% electricity)": "coal_share_elec",
}


def fraction(percent: str) -> str:
    """'65.957' -> '0.65957', '100.0' -> '1', '0.0' -> '0', '' -> '' (exact, no float)."""
    if percent == "":
        return ""
    return format((Decimal(percent) / 100).normalize(), "f")


def extract(elec: Path, iso: Path) -> tuple[list[list[str]], list[str]]:
    """The output rows (header first) and the sorted names of the entities dropped."""
    with iso.open(newline="", encoding="utf-8") as f:
        codes = {row["Country"]: row["iso_code"] for row in csv.DictReader(f)}
    rows, dropped = [], set()
    with elec.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = codes.get(row["Country"], "")
            if code == "" or code.startswith("OWID_"):
                dropped.add(row["Country"])
                continue
            values = [fraction(row[col]) for col in SHARES]
            if any(values):
                rows.append([code, row["Country"], row["Year"], *values])
    rows.sort(key=lambda r: (r[0], int(r[2])))
    return [["code", "country", "year", *SHARES.values()], *rows], sorted(dropped)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("elec", type=Path, help="Electricity mix from BP & EMBER (2022).csv")
    ap.add_argument("iso", type=Path, help="scripts/input/shared/iso_codes.csv")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    rows, dropped = extract(args.elec, args.iso)
    with args.out.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    print(f"{len(rows) - 1} rows -> {args.out}; dropped {len(dropped)}: {'; '.join(dropped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
