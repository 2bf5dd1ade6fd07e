#!/usr/bin/env python3
"""Derive a variant of a results CSV for the report tests: each option changes the data in one
stated way, so a test can check that an answer follows the data.

usage: csv_variant.py IN OUT [options], applied in this order:
  --drop COL=VALUE                 drop the rows whose COL equals VALUE (repeatable)
  --like COL:IMPL:BASE:FACTOR[:MINSIZE]
                                   IMPL's COL := BASE's COL x FACTOR in the same (mode, size,
                                   threads, rep) row, for sizes >= MINSIZE (repeatable)
  --scale COL:IMPL:FACTOR[:MINSIZE]  IMPL's COL x FACTOR (repeatable)
  --blank COL:IMPL                 empty IMPL's COL cells (IMPL '*' = every row) (repeatable)
  --add COL=VALUE                  add a column with VALUE in every row (repeatable)
"""
import argparse
import csv


def num(new, old):
    """Keep integer cells integers (counters), others to 6 significant digits."""
    return str(round(new)) if "." not in old and "e" not in old else f"{new:.6g}"


def key(r):
    return (r["mode"], r["msg_size"], r["threads"], r["rep"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    for opt in ("--drop", "--like", "--scale", "--blank", "--add"):
        ap.add_argument(opt, action="append", default=[])
    a = ap.parse_args()
    with open(a.inp, newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0].keys())
    for d in a.drop:
        col, val = d.split("=", 1)
        rows = [r for r in rows if r[col] != val]
    for spec in a.like:
        col, impl, base, factor, *minsize = spec.split(":")
        lo = int(minsize[0]) if minsize else 0
        by = {key(r): r for r in rows if r["impl"] == base}
        for r in rows:
            if r["impl"] == impl and int(r["msg_size"]) >= lo and key(r) in by and by[key(r)][col] != "":
                r[col] = num(float(by[key(r)][col]) * float(factor), by[key(r)][col])
    for spec in a.scale:
        col, impl, factor, *minsize = spec.split(":")
        lo = int(minsize[0]) if minsize else 0
        for r in rows:
            if r["impl"] == impl and int(r["msg_size"]) >= lo and r[col] != "":
                r[col] = num(float(r[col]) * float(factor), r[col])
    for spec in a.blank:
        col, impl = spec.split(":")
        for r in rows:
            if impl in ("*", r["impl"]):
                r[col] = ""
    for spec in a.add:
        col, val = spec.split("=", 1)
        fields.append(col)
        for r in rows:
            r[col] = val
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
