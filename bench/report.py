#!/usr/bin/env python3
"""The table of bench/run.sh, from its raw results.

    report.py RESULTS LIMITS

RESULTS: tab-separated lines  tool run op value rss_kib
    op is initial, incremental, unchanged, restore, verify (value: seconds),
    repo_bytes (value: bytes), server (rss_kib: the server's VmHWM), or
    failed / missing (value: the operation or a reason).
LIMITS: tab-separated lines  key value  (seconds, bytes or MB/s; a key may repeat).

Cells are "median (min-max)" over the runs.  coffer/restic is the ratio of the
medians (below 1: coffer takes less); "% of limit" is limit / coffer, 100 % at
the machine's limit (how each limit is made: docs/PERFORMANCE.md).
"""

import statistics
import sys

TOOLS = [("coffer", "coffer"), ("restic-off", "restic off"),
         ("restic-auto", "restic auto"), ("borg", "borg")]
OPS = [("initial", "initial push / backup, s"),
       ("incremental", "incremental (1% changed), s"),
       ("unchanged", "nothing changed, s"),
       ("restore", "restore (pull, no fsync), s"),
       ("verify", "verify all data, s")]
MIB = 1 << 20


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts and parts[0]:
                rows.append(parts)
    return rows


def cell(vals, fmt="%.2f"):
    if not vals:
        return "-"
    m = statistics.median(vals)
    if len(vals) == 1:
        return fmt % m
    return (fmt + " (" + fmt + "-" + fmt + ")") % (m, min(vals), max(vals))


def main():
    res = load(sys.argv[1])
    lim = {}
    for k, v in load(sys.argv[2]):
        try:
            lim.setdefault(k, []).append(float(v))
        except ValueError:
            lim.setdefault(k, [])
    L = {k: statistics.median(v) for k, v in lim.items() if v}

    t = {}        # (tool, op) -> [seconds]
    rss = {}      # (tool, op) -> [KiB]
    status = {}   # tool -> note
    for r in res:
        tool, _run, op, val = r[0], r[1], r[2], r[3]
        k = r[4] if len(r) > 4 else ""
        if op in ("failed", "missing"):
            status[tool] = ("not built yet" if op == "missing"
                            else "failed: " + val)
            continue
        if val:
            t.setdefault((tool, op), []).append(float(val))
        if k:
            rss.setdefault((tool, op), []).append(float(k))

    # The machine's limit for each coffer figure, in seconds.
    B = L.get("dataset_bytes", 0)
    ncpu = L.get("nproc", 1)
    limits = {}
    if B and "blake2b_mbs" in L:
        cpu = B / 1e6 * (1 / L["chunker_mbs"] + 1 / L["blake2b_mbs"] +
                         1 / L["xchacha_mbs"]) / ncpu
        vcpu = B / 1e6 * (1 / L["blake2b_mbs"] + 1 / L["xchacha_mbs"]) / ncpu
        wr = B / 1e6 / L["fsync_write_mbs"] if "fsync_write_mbs" in L else 0
        limits["initial"] = max(L.get("read_warm_s", 0), cpu, wr)
        limits["verify"] = max(L.get("read_warm_s", 0), vcpu)
    if "stat_walk_s" in L:
        limits["incremental"] = L["stat_walk_s"]
        limits["unchanged"] = L["stat_walk_s"]
    if "cp_r_s" in L:
        limits["restore"] = L["cp_r_s"]

    head = ["operation"] + [n for _, n in TOOLS] + \
        ["coffer/restic off", "coffer/restic auto", "limit", "coffer % of limit"]
    rows = []

    def med(tool, op, src=t):
        v = src.get((tool, op))
        return statistics.median(v) if v else None

    def ratio(a, b):
        return "%.2f" % (a / b) if a is not None and b else "-"

    for op, name in OPS:
        row = [name]
        for tool, _ in TOOLS:
            if tool in status and not t.get((tool, op)):
                row.append("coffer: " + status[tool] if tool == "coffer"
                           else status[tool])
            else:
                row.append(cell(t.get((tool, op), [])))
        c = med("coffer", op)
        row.append(ratio(c, med("restic-off", op)))
        row.append(ratio(c, med("restic-auto", op)))
        lv = limits.get(op)
        row.append("%.2f" % lv if lv is not None else "-")
        row.append("%.0f %%" % (100 * lv / c) if lv is not None and c else "-")
        rows.append(row)

    row = ["repository size, MiB"]
    for tool, _ in TOOLS:
        v = [x / MIB for x in t.get((tool, "repo_bytes"), [])]
        row.append(cell(v, "%.1f") if v else
                   ("coffer: " + status[tool] if tool == "coffer" and tool in status
                    else "-"))
    c = med("coffer", "repo_bytes")
    row += [ratio(c, med("restic-off", "repo_bytes")),
            ratio(c, med("restic-auto", "repo_bytes")),
            "%.1f" % (B / MIB) if B else "-", "(dataset)"]
    rows.append(row)
    if "padme_padding" in L:
        row = ["of which Padme padding (est.), MiB",
               "%.1f" % (L["padme_padding"] / MIB)] + ["-"] * 3
        share = (L["padme_padding"] / c * 100) if c else None
        row += ["-", "-", "-",
                "%.1f %% of repo" % share if share is not None else "-"]
        rows.append(row)

    for op, name in [("initial", "peak RSS client, push/backup, MiB"),
                     ("restore", "peak RSS client, restore, MiB"),
                     ("verify", "peak RSS client, verify, MiB"),
                     ("server", "peak RSS server (VmHWM), MiB")]:
        row = [name]
        for tool, _ in TOOLS:
            v = [x / 1024 for x in rss.get((tool, op), [])]
            row.append(cell(v, "%.0f") if v else "-")
        c = med("coffer", op, rss)
        row += [ratio(c, med("restic-off", op, rss)),
                ratio(c, med("restic-auto", op, rss)), "-", "-"]
        rows.append(row)

    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, head))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join("%-*s" % (w, x) for w, x in zip(widths, r)))

    print()
    print("machine limits (medians):")
    for k in sorted(L):
        print("  %-18s %.3f" % (k, L[k]))
    for k in sorted(lim):
        if not lim[k]:
            print("  %-18s skipped" % k)


if __name__ == "__main__":
    main()
