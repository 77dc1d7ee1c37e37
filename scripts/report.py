#!/usr/bin/env python3
"""Turn the benchmark suite's JSON (bench/suite.sh) into the report.

    scripts/report.py RESULTS_DIR

Reads RESULTS_DIR/*.json, checks that the numbers are consistent (bytes over
time is the reported bandwidth, everything positive), writes plots as PNG and
SVG with gnuplot, and RESULTS_DIR/report.md with the summary tables and the
PAL/baseline ratios. Exits non-zero if a file is missing or inconsistent.
"""
import glob
import json
import os
import subprocess
import sys

import report_scale

MIB = 1 << 20


def human(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def load(path):
    with open(path) as f:
        return json.load(f)


def results_of(bw):
    r = bw["results"]
    return r if isinstance(r, list) else [r]


def check_bw(name, bw, problems):
    """bytes / time must give the reported average, every number positive."""
    for r in results_of(bw):
        for key in ("MsgSize", "n_iterations", "BW_average", "BW_peak", "MsgRate"):
            if not float(r[key]) > 0:
                problems.append(f"{name}: {key} = {r[key]} at {r['MsgSize']} B")
        if "seconds" in r and float(r["seconds"]) > 0:
            avg = r["MsgSize"] * r["n_iterations"] / r["seconds"] / MIB
            if abs(avg - r["BW_average"]) > 0.01 * avg + 0.01:
                problems.append(f"{name}: BW_average {r['BW_average']} but bytes/time = {avg:.2f}")
        if float(r["BW_peak"]) + 1e-9 < float(r["BW_average"]) * 0.999:
            problems.append(f"{name}: peak {r['BW_peak']} below average {r['BW_average']}")


def check_pair(name, pt, pb, problems):
    """perftest and pal_bench must have run the same test: same device,
    transport, link and MTU (pal_bench reads them from its connection),
    same message size and count, same depth and CQ moderation (pal_bench
    applies perftest's defaults and limits); perftest's own numbers must be
    positive and its peak not below its average."""
    for key in ("Device", "Transport_type", "Connection_type", "Number_of_qps", "Link_type",
                "Mtu", "TX_depth", "CQ_Moderation"):
        if pt["test_info"].get(key) != pb["test_info"].get(key):
            problems.append(f"{name}: {key} {pt['test_info'].get(key)} vs "
                            f"{pb['test_info'].get(key)}")
    a, b = results_of(pt), results_of(pb)
    if [(r["MsgSize"], r["n_iterations"]) for r in a] != [(r["MsgSize"], r["n_iterations"]) for r in b]:
        problems.append(f"{name}: sizes and counts differ")
    for r in a:
        for key in ("MsgSize", "n_iterations", "BW_average", "BW_peak", "MsgRate"):
            if not float(r[key]) > 0:
                problems.append(f"{name}: perftest {key} = {r[key]}")
        if float(r["BW_peak"]) + 1e-9 < float(r["BW_average"]) * 0.999:
            problems.append(f"{name}: perftest peak {r['BW_peak']} below average {r['BW_average']}")


def gnuplot(script, out_base):
    for term, ext in (("pngcairo size 900,600", "png"), ("svg size 900,600", "svg")):
        # noenhanced: names such as ibv_reg_mr keep their underscores.
        full = f"set terminal {term} noenhanced\nset output '{out_base}.{ext}'\n" + script
        subprocess.run(["gnuplot"], input=full, text=True, check=True)


def plot_reg(d, reg):
    specs = sorted({r["memory"] for r in reg}, key=lambda s: [x["memory"] for x in reg].index(s))
    lines, data = [], os.path.join(d, "reg.dat")
    with open(data, "w") as f:
        for i, spec in enumerate(specs):
            f.write(f"# {spec}\n")
            for r in (x for x in reg if x["memory"] == spec):
                f.write(f"{r['size']} {r['reg_us_pal']} {r['reg_us_baseline']}\n")
            f.write("\n\n")
            lines.append(f"'{data}' index {i} using 1:2 with linespoints title '{spec}: dma-buf (PAL)'")
            lines.append(f"'{data}' index {i} using 1:3 with linespoints dt 2 title '{spec}: ibv_reg_mr'")
    big = max(r["size"] for r in reg)
    label = f"PAL/baseline at {big >> 20} MiB: " + ", ".join(
        f"{spec} {r['ratio_pal_over_baseline']:.3g}" for spec in specs
        for r in reg if r["size"] == big and r["memory"] == spec)
    gnuplot(f"""set title 'MR registration time vs size (soft-RoCE)'
set logscale xy
set xlabel 'MR size [bytes]'
set ylabel 'registration time [us], median'
set key top left font ',8'
set label 1 '{label}' at graph 0.02, graph 0.03 font ',9'
plot {', '.join(lines)}
""", os.path.join(d, "reg"))


def loglog_slope(points):
    """Least-squares slope of log(y) against log(x): about 0 for a cost
    that does not depend on x, 1 for one proportional to it."""
    import math
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None


def size_tics(sizes):
    return ", ".join(f'"{human(s)}" {s}' for s in sorted(set(sizes)))


def plot_vs_buffer(out_base, title, sizes, ylabel, lines):
    """Log-log against the buffer size, sizes labelled in KiB/MiB/GiB and the
    key below the plot, where it cannot hide a curve."""
    gnuplot(f"""set title '{title}'
set logscale xy
set xlabel 'buffer size'
set xtics ({size_tics(sizes)})
set ylabel '{ylabel}'
set key outside bottom center horizontal font ',8'
plot {', '.join(lines)}
""", out_base)


def plot_reg_windows(d, win, slopes):
    specs = list(dict.fromkeys(r["memory"] for r in win))
    lines, data = [], os.path.join(d, "reg-windows.dat")
    with open(data, "w") as f:
        for i, spec in enumerate(specs):
            f.write(f"# {spec}\n")
            for r in (x for x in win if x["memory"] == spec):
                p, b = r["reg_us_pal"], r["reg_us_baseline"]
                f.write(f"{r['size']} {p} {r['reg_us_pal_min']} {r['reg_us_pal_max']} "
                        f"{b} {r['reg_us_baseline_min']} {r['reg_us_baseline_max']}\n")
            f.write("\n\n")
            sl = slopes.get(spec)
            tag = f" (slope {sl:.2f})" if sl is not None else ""
            lines.append(f"'{data}' index {i} using 1:2:3:4 with yerrorlines "
                         f"title '{spec}: dma-buf window{tag}'")
            lines.append(f"'{data}' index {i} using 1:5:6:7 with yerrorlines dt 2 "
                         f"title '{spec}: ibv_reg_mr window'")
    w = win[0]
    plot_vs_buffer(os.path.join(d, "reg-windows"),
                   f"Registration of one {human(w['window'])} window, {w['mrs']} held per "
                   "buffer (soft-RoCE)", [r["size"] for r in win],
                   "time per MR [us], median, min-max", lines)


def reg_windows_section(d, summary, problems, md):
    """Per-MR cost of a window against the size of the buffer it is in."""
    win = load(os.path.join(d, "reg-windows.json"))
    if not win:
        problems.append("reg windows: no results")
        return
    md.append("\n## Registration of windows: per-MR cost vs buffer size\n")
    md.append("Each point registers the same number of windows of the same size, spread over "
              "the buffer and held together, then deregisters them; the time is per MR (median, "
              "min-max over every MR of every repetition). A registration that costs what its "
              "window costs is flat in the buffer's size (log-log slope near 0); one that costs "
              "what the buffer costs has slope 1. The first registration of each buffer, which "
              "makes the exporter build its list, is not timed.\n")
    md.append("| memory | buffer | extents | MRs | window | dma-buf [us] (min-max) | "
              "ibv_reg_mr [us] (min-max) | baseline memory |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---|")
    slopes = {}
    for r in win:
        for key in ("reg_us_pal", "reg_us_baseline"):
            if not r[key] > 0:
                problems.append(f"reg windows {r['memory']} {r['size']}: {key} = {r[key]}")
        md.append(f"| {r['memory']} | {human(r['size'])} | {r['extents']} | {r['mrs']} | "
                  f"{human(r['window'])} | {r['reg_us_pal']:.1f} ({r['reg_us_pal_min']:.1f}-"
                  f"{r['reg_us_pal_max']:.1f}) | {r['reg_us_baseline']:.1f} "
                  f"({r['reg_us_baseline_min']:.1f}-{r['reg_us_baseline_max']:.1f}) | "
                  f"{r['baseline_memory']} |")
    goals = []
    for spec in dict.fromkeys(r["memory"] for r in win):
        rows = [r for r in win if r["memory"] == spec]
        slopes[spec] = loglog_slope([(r["size"], r["reg_us_pal"]) for r in rows])
        small, big = rows[0], rows[-1]
        if big["size"] > small["size"] and small["reg_us_pal"] > 0:
            sl = f"{slopes[spec]:.2f}" if slopes[spec] is not None else "-"
            goals.append(f"| {spec} | {human(small['size'])} | {human(big['size'])} | "
                         f"{big['reg_us_pal'] / small['reg_us_pal']:.2f} | {sl} |")
    # Not in the summary, whose ratios are PAL path / baseline.
    md.append("\nThe issue's goal: per-MR cost on the largest buffer within 1.2x of the "
              "smallest, a log-log slope near 0.\n")
    md.append("| memory | smallest buffer | largest buffer | per MR, largest / smallest | slope |")
    md.append("|---|---:|---:|---:|---:|")
    md.extend(goals)
    plot_reg_windows(d, win, slopes)


def import_windows_section(d, summary, problems, md):
    """One window imported at the end of ever larger buffers, per path."""
    imp = load(os.path.join(d, "import-windows.json"))
    if not imp:
        problems.append("import windows: no results")
        return
    md.append("\n## Kernel import of one window vs buffer size: list vs sg_table (median)\n")
    md.append(f"The last {human(imp[0]['window'])} of a shuffled test exporter buffer, imported for a DMA device "
              "(no IOMMU) through each path; only the buffer grows. The exporter builds its "
              "list once per buffer, at the first list import, which is not timed (each path "
              "gets one untimed import first); an sg_table is built and DMA-mapped for the "
              "whole buffer at every import. Slope: "
              "log-log slope of the import time against the buffer size (0: the MR's cost, "
              "1: the buffer's).\n")
    md.append("| extent | mode | path | " + " | ".join(
        human(s) for s in sorted({r["size"] for r in imp})) + " | slope |")
    md.append("|---:|---|---|" + "---:|" * (len({r["size"] for r in imp}) + 1))
    sizes = sorted({r["size"] for r in imp})
    plot_rows = []
    for e in sorted({r["extent_size"] for r in imp}):
        for mode in dict.fromkeys(r["mode"] for r in imp):
            for path in ("pal", "sgt"):
                rows = [r for r in imp if r["extent_size"] == e and r["mode"] == mode
                        and r["path"] == path]
                if not rows:
                    continue
                for r in rows:
                    if not r["import_us"] > 0:
                        problems.append(f"import window {r['size']} {mode} {path}: no time")
                by = {r["size"]: r["import_us"] for r in rows}
                sl = loglog_slope([(r["size"], r["import_us"]) for r in rows])
                sl_txt = f"{sl:.2f}" if sl is not None else "-"
                name = "list" if path == "pal" else "sg_table"
                md.append(f"| {human(e)} | {mode} | {name} | " + " | ".join(
                    f"{by[s]:.1f}" if s in by else "-" for s in sizes) + f" | {sl_txt} |")
                plot_rows.append((f"{human(e)} extents, {mode}, {name} (slope {sl_txt})", rows))
            pal = {r["size"]: r for r in imp if r["extent_size"] == e and r["mode"] == mode
                   and r["path"] == "pal"}
            sgt = {r["size"]: r for r in imp if r["extent_size"] == e and r["mode"] == mode
                   and r["path"] == "sgt"}
            if pal and sgt and set(pal) & set(sgt):
                big = max(set(pal) & set(sgt))
                if not sgt[big]["import_us"] > 0:
                    continue
                summary.append((f"kernel import of a {human(pal[big]['window'])} window of a "
                                f"{human(big)} buffer ({mode}, {human(e)} extents)",
                                pal[big]["import_us"] / sgt[big]["import_us"],
                                "time, list path / sg_table path (no IOMMU)"))
                for s in set(pal) & set(sgt):
                    if (pal[s]["page_size"], pal[s]["blocks"]) != (sgt[s]["page_size"], sgt[s]["blocks"]):
                        problems.append(f"import window {s} {mode}: paths disagree on geometry")
    data = os.path.join(d, "import-windows.dat")
    lines = []
    with open(data, "w") as f:
        for i, (name, rows) in enumerate(plot_rows):
            f.write(f"# {name}\n")
            for r in rows:
                f.write(f"{r['size']} {r['import_us']}\n")
            f.write("\n\n")
            dt = "" if "list" in name else " dt 2"
            lines.append(f"'{data}' index {i} using 1:2 with linespoints{dt} title '{name}'")
    plot_vs_buffer(os.path.join(d, "import-windows"),
                   f"Kernel import of one {human(imp[0]['window'])} window vs buffer size "
                   "(DMA device, no IOMMU)", [r["size"] for r in imp],
                   "import time [us], median", lines)


def small_sample(values):
    """Median, min and max: the rounds are too few for percentiles."""
    v = sorted(values)
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return med, v[0], v[-1]


def verdict(lo, hi):
    """A ratio whose spread includes 1.0 is no gain and no loss."""
    if lo <= 1.0 <= hi:
        return "equal within noise"
    return "higher in every round" if lo > 1.0 else "lower in every round"


def round_files(d, pattern):
    """rounds/<pattern % N> for N = 1, 2, ... while the file exists."""
    files, n = [], 1
    while os.path.exists(os.path.join(d, "rounds", pattern % n)):
        files.append(os.path.join(d, "rounds", pattern % n))
        n += 1
    return files


def round_ratios(d, num, den, name, problems, min_rounds=3):
    """{size: [BW_average ratio num/den of each round]} over the rounds of
    a compared pair (bench/suite.sh), checking every run."""
    a, b = round_files(d, num), round_files(d, den)
    if len(a) != len(b) or len(a) < min_rounds:
        problems.append(f"{name}: {len(a)} and {len(b)} rounds, expected the same number, "
                        f"at least {min_rounds}")
        return {}
    ratios = {}
    for fa, fb in zip(a, b):
        ra, rb = load(fa), load(fb)
        check_bw(os.path.basename(fa), ra, problems)
        check_bw(os.path.basename(fb), rb, problems)
        for r in results_of(ra):
            other = bw_at(rb, r["MsgSize"])
            if other:
                ratios.setdefault(r["MsgSize"], []).append(float(r["BW_average"]) / float(other))
    return ratios


def spread_note(values):
    med, lo, hi = small_sample(values)
    return med, (f"median of {len(values)} alternating rounds, min-max {lo:.2f}-{hi:.2f}: "
                 f"{verdict(lo, hi)}")


def plot_bw(d, verb, runs, label):
    lines, data = [], os.path.join(d, f"bw-{verb}.dat")
    with open(data, "w") as f:
        for i, (name, bw) in enumerate(runs):
            f.write(f"# {name}\n")
            for r in results_of(bw):
                f.write(f"{r['MsgSize']} {r['BW_average']}\n")
            f.write("\n\n")
            lines.append(f"'{data}' index {i} using 1:2 with linespoints title '{name}'")
    gnuplot(f"""set title 'RDMA {verb.upper()} bandwidth vs message size (soft-RoCE)'
set logscale x 2
set xlabel 'message size [bytes]'
set ylabel 'BW average [MiB/s]'
set key top left font ',8'
set label 1 '{label}' at graph 0.02, graph 0.95 font ',9'
plot {', '.join(lines)}
""", os.path.join(d, f"bw-{verb}"))


def bw_at(bw, size):
    for r in results_of(bw):
        if r["MsgSize"] == size:
            return r["BW_average"]
    return None


def plot_revoke(d, rev):
    data = os.path.join(d, "revoke.dat")
    with open(data, "w") as f:
        for r in rev:
            f.write(f"{r['mrs']} {r['revoke_us']} {r['move_us']} {r['move_us_no_mr']}\n")
    gnuplot(f"""set title 'Revoke and move latency vs MRs on the buffer (soft-RoCE)'
set logscale xy
set xlabel 'MRs on the buffer'
set ylabel 'time until every MR is invalidated [us], median'
set key top left
plot '{data}' using 1:2 with linespoints title 'revoke (pinned MRs)', \\
     '{data}' using 1:3 with linespoints title 'move (on-demand MRs)', \\
     '{data}' using 1:4 with lines dt 2 title 'move with no MR (allocation + copy)'
""", os.path.join(d, "revoke"))


def plot_import(d, imp):
    # The plot shows one import mode (irdma's, the default); the table has all.
    imp = [r for r in imp if r.get("mode", "revocable") == "revocable"]
    extents = sorted({r["extent_size"] for r in imp})
    lines, data = [], os.path.join(d, "import.dat")
    with open(data, "w") as f:
        idx = 0
        for e in extents:
            for path in ("pal", "sgt"):
                f.write(f"# extent {e} {path}\n")
                for r in (x for x in imp if x["extent_size"] == e and x["path"] == path):
                    f.write(f"{r['size']} {r['import_us'] + r['geometry_us']}\n")
                f.write("\n\n")
                name = "list" if path == "pal" else "sg_table"
                lines.append(f"'{data}' index {idx} using 1:2 with linespoints "
                             f"{'' if path == 'pal' else 'dt 2 '}title '{e >> 10} KiB extents, {name}'")
                idx += 1
    big = max(r["size"] for r in imp)
    ratios = []
    for e in extents:
        p = [r for r in imp if r["size"] == big and r["extent_size"] == e]
        pal = next((r for r in p if r["path"] == "pal"), None)
        sgt = next((r for r in p if r["path"] == "sgt"), None)
        if pal and sgt:
            ratios.append(f"{e >> 10}K: {(pal['import_us'] + pal['geometry_us']) / (sgt['import_us'] + sgt['geometry_us']):.2f}")
    gnuplot(f"""set title 'Kernel import of a dma-buf MR for a DMA device (import + geometry)'
set logscale xy
set xlabel 'MR size [bytes]'
set ylabel 'time [us], median'
set key top left font ',8'
set label 1 'list/sg_table at {big >> 20} MiB: {", ".join(ratios)}' at graph 0.02, graph 0.03 font ',9'
plot {', '.join(lines)}
""", os.path.join(d, "import"))


def side_by_side(d, reg, summary, problems, md):
    """rxe and siw: the same registrations and transfers on both devices."""
    siw_reg = load(os.path.join(d, "siw-reg.json"))
    md.append("\n## rxe and siw side by side\n")
    md.append("The same pal_bench runs on soft-RoCE (rxe) and, replacing it on the same veth "
              "pair, soft-iWARP (siw). Registration: median time of a pinned dma-buf MR and of "
              "ibv_reg_mr of its baseline memory, at the largest size both measured.\n")
    md.append("| memory | size | rxe dma-buf [us] | rxe ibv_reg_mr [us] | siw dma-buf [us] | "
              "siw ibv_reg_mr [us] | siw/rxe dma-buf |")
    md.append("|---|---:|---:|---:|---:|---:|---:|")
    for r in siw_reg:
        if not r["reg_us_pal"] > 0 or not r["reg_us_baseline"] > 0:
            problems.append(f"siw reg {r['memory']} {r['size']}: no time")
    for mem in sorted({r["memory"] for r in siw_reg} & {r["memory"] for r in reg}):
        sizes = ({r["size"] for r in siw_reg if r["memory"] == mem} &
                 {r["size"] for r in reg if r["memory"] == mem})
        if not sizes:
            continue
        size = max(sizes)
        a = next(r for r in reg if r["memory"] == mem and r["size"] == size)
        b = next(r for r in siw_reg if r["memory"] == mem and r["size"] == size)
        md.append(f"| {mem} | {human(size)} | {a['reg_us_pal']:.1f} | {a['reg_us_baseline']:.1f} | "
                  f"{b['reg_us_pal']:.1f} | {b['reg_us_baseline']:.1f} | "
                  f"{b['reg_us_pal'] / a['reg_us_pal']:.2f} |")
        summary.append((f"siw registration, {mem}, {human(size)}, vs ibv_reg_mr of "
                        f"{b['baseline_memory']}", b["ratio_pal_over_baseline"],
                        f"time, baseline = ibv_reg_mr on {b['baseline_memory']} (siw)"))
    md.append("\nBandwidth (BW average, MiB/s) of the same transfers; on siw a dma-buf MR's "
              "payload is copied out under the MR's lock.\n")
    for verb in ("write", "read"):
        rows = []
        for dev, prefix in (("rxe", "bw"), ("siw", "siw-bw")):
            for path in sorted(glob.glob(os.path.join(d, f"{prefix}-{verb}-*.json"))):
                name = os.path.basename(path)[len(f"{prefix}-{verb}-"):-len(".json")]
                mem, how = name.rsplit("-", 1)
                if mem not in ("udmabuf", "testexp_64K_1"):
                    continue
                bw = load(path)
                check_bw(os.path.basename(path), bw, problems)
                rows.append((dev, f"{mem.replace('_', ':')} "
                             f"{'dma-buf' if how == 'dmabuf' else 'reg_mr'}", bw))
        if not any(dev == "siw" for dev, _, _ in rows):
            problems.append(f"no siw bandwidth results for {verb}")
            continue
        sizes = sorted({r["MsgSize"] for _, _, bw in rows for r in results_of(bw)})
        show = [s for s in sizes if s in (4096, 65536, 1 << 20, 8 << 20)] or sizes
        md.append(f"\n### {verb.upper()}, rxe and siw\n")
        md.append("| device | memory, registration | " + " | ".join(f"{human(s)}" for s in show) + " |")
        md.append("|---|---|" + "---:|" * len(show))
        for dev, name, bw in rows:
            md.append(f"| {dev} | {name} | " + " | ".join(
                f"{bw_at(bw, s):.1f}" if bw_at(bw, s) else "-" for s in show) + " |")
        by = {(dev, name): bw for dev, name, bw in rows}
        a, b = by.get(("siw", "udmabuf dma-buf")), by.get(("siw", "udmabuf reg_mr"))
        if a and b:
            top = max(r["MsgSize"] for r in results_of(a))
            if bw_at(a, top) and bw_at(b, top):
                summary.append((f"siw {verb.upper()} bandwidth, udmabuf, {human(top)}",
                                bw_at(a, top) / bw_at(b, top),
                                "dma-buf MR / ibv_reg_mr of the same pages (siw)"))


def kernel_note(path):
    """Which kernel was measured, and which debug checks it carried."""
    kernel, on = "?", []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("kernel "):
                kernel = line.split(" ", 1)[1]
            elif line.endswith("=y"):
                on.append(line[len("CONFIG_"):-2])
    if not on:
        return (f"Kernel measured: `{kernel}`, without debug checks (no KASAN, lockdep, "
                "kmemleak, DMABUF_DEBUG, DMA_API_DEBUG, DEBUG_SG, DEBUG_LIST, SLUB_DEBUG_ON).\n")
    return (f"Kernel measured: `{kernel}`, a test kernel with {', '.join(on)} on: their "
            "per-operation work is in every figure below and taxes the two paths differently; "
            "the main job measures build/kobj-bench, built without them.\n")


def sweeps_of(path):
    """"full" for the main job's sweeps, "quick" for bench-smoke's."""
    with open(path) as f:
        for line in f:
            if line.startswith("sweeps "):
                return line.split()[1]
    return "?"


def main():
    d = sys.argv[1]
    problems, md = [], []
    need = ["topo.json", "reg.json", "revoke.json", "refault.json", "import.json", "perftest-host.json",
            "perftest-udmabuf.json", "pal_bench-host.json", "pal_bench-udmabuf.json", "siw-reg.json",
            "reg-windows.json", "reg-many.json", "reg-large-testexp.json", "import-windows.json",
            "kernel-config.txt"]
    for n in need:
        if not os.path.exists(os.path.join(d, n)):
            problems.append(f"missing {n}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1

    topo = load(os.path.join(d, "topo.json"))
    reg = load(os.path.join(d, "reg.json"))
    rev = load(os.path.join(d, "revoke.json"))
    md.append("# rdma-pal benchmark report (soft-RoCE in the guest)\n")
    md.append(kernel_note(os.path.join(d, "kernel-config.txt")))
    md.append(f"Topology: {topo['cores']} cores, {topo['numa_nodes']} NUMA node(s); RDMA device "
              f"{topo['rdma_device']} on netdev {topo['rdma_netdev'] or '-'} (PCI {topo['rdma_pci']}); "
              f"exporter {topo['exporter_pci']}; P2P route: {topo['p2p_route']}.\n")

    summary = []  # (what, ratio, note)
    goals = []  # (goal, measured, verdict)
    big = max(r["size"] for r in reg)
    for r in (x for x in reg if x["size"] == big):
        summary.append((f"registration, {r['memory']}, {human(big)}, vs ibv_reg_mr of "
                        f"{r['baseline_memory']}", r["ratio_pal_over_baseline"],
                        f"time, baseline = ibv_reg_mr on {r['baseline_memory']}"))
    md.append("SUMMARY_PLACEHOLDER")
    md.append("## Registration (median of repetitions)\n")
    md.append("| memory | size | extents | dma-buf reg [us] | ibv_reg_mr [us] | baseline memory | PAL/baseline |")
    md.append("|---|---:|---:|---:|---:|---|---:|")
    for r in reg:
        for key in ("reg_us_pal", "reg_us_baseline"):
            if not r[key] > 0:
                problems.append(f"reg {r['memory']} {r['size']}: {key} = {r[key]}")
        md.append(f"| {r['memory']} | {r['size']} | {r['extents']} | {r['reg_us_pal']:.1f} | "
                  f"{r['reg_us_baseline']:.1f} | {r['baseline_memory']} | "
                  f"{r['ratio_pal_over_baseline']:.3f} |")
    plot_reg(d, reg)
    report_scale.reg_meta_section(d, reg, summary, goals, problems, md)
    reg_windows_section(d, summary, problems, md)
    report_scale.many_section(d, goals, problems, md)
    report_scale.large_section(d, goals, problems, md)

    imp = load(os.path.join(d, "import.json"))
    md.append("\n## Kernel import for a DMA-capable device: list vs sg_table (median)\n")
    md.append("Measured by the series' /dev/ib_umem_import_test for a PCI function of the guest "
              "(no IOMMU: one extent per range); the same shuffled test exporter buffer both ways, "
              "in each driver import mode: revocable (pinned, as irdma), pinned (as efa, bnxt_re, "
              "mana, ionic), dynamic (as mlx5). The two paths take turns to go first. Invalidate "
              "and map again: dynamic imports only, the time the importer's invalidate_mappings "
              "takes to unmap when the exporter moves the buffer (under the reservation lock), "
              "and the time to map again on the next use.\n")
    md.append("| size | extent | mode | path | import [us] | geometry [us] | invalidate [us] | "
              "map again [us] | extents | page size | blocks | metadata [B] |")
    md.append("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in imp:
        mode = r.get("mode", "revocable")
        for key in ("import_us", "geometry_us"):
            if not r[key] > 0:
                problems.append(f"import {r['size']} {mode} {r['path']}: {key} = {r[key]}")
        if mode == "dynamic" and not r.get("remap_us", 0) > 0:
            problems.append(f"import {r['size']} dynamic {r['path']}: no map-again time")
        if mode == "dynamic" and not r.get("invalidate_us", 0) > 0:
            problems.append(f"import {r['size']} dynamic {r['path']}: no invalidate time")
        remap = f"{r['remap_us']:.1f}" if "remap_us" in r else "-"
        inval = f"{r['invalidate_us']:.1f}" if "invalidate_us" in r else "-"
        md.append(f"| {r['size']} | {r['extent_size']} | {mode} | "
                  f"{'list' if r['path'] == 'pal' else 'sg_table'} | "
                  f"{r['import_us']:.1f} | {r['geometry_us']:.1f} | {inval} | {remap} | "
                  f"{r['extents']} | "
                  f"{r['page_size']} | {r['blocks']} | {r['meta_bytes']} |")
    for a in (x for x in imp if x["path"] == "pal"):
        b = next((x for x in imp if x["path"] == "sgt" and x["size"] == a["size"]
                  and x["extent_size"] == a["extent_size"]
                  and x.get("mode") == a.get("mode")), None)
        if b and (a["page_size"] != b["page_size"] or a["blocks"] != b["blocks"]):
            problems.append(f"import {a['size']}/{a['extent_size']} {a.get('mode')}: "
                            "paths disagree on geometry")
    plot_import(d, imp)
    import_windows_section(d, summary, problems, md)
    worst_meta = report_scale.import_goals(d, imp, summary, goals, problems, md)
    worst_meta += [((r["mr_bytes_pal"] + r.get("list_bytes_pal", 0)) / r["mr_bytes_baseline"],
                    f"rxe, {r['memory']}, {human(r['size'])}")
                   for r in reg if r.get("mr_bytes_baseline") and "mr_bytes_pal" in r]
    if worst_meta:
        w = max(worst_meta)
        goals.append(("metadata never above 1.0x of the sg path (or ibv_reg_mr) anywhere, "
                      "the exporter's list counted for one MR", f"at most {w[0]:.3f} ({w[1]})",
                      report_scale.met(w[0] <= 1.0)))
    ibig = max(r["size"] for r in imp)
    for mode in sorted({r.get("mode", "revocable") for r in imp}):
        for e in sorted({r["extent_size"] for r in imp}):
            p = {r["path"]: r for r in imp if r["size"] == ibig and r["extent_size"] == e
                 and r.get("mode", "revocable") == mode}
            if "pal" in p and "sgt" in p:
                summary.append((f"kernel import for a DMA device ({mode}), {human(ibig)} of "
                                f"{human(e)} extents",
                                (p["pal"]["import_us"] + p["pal"]["geometry_us"]) /
                                (p["sgt"]["import_us"] + p["sgt"]["geometry_us"]),
                                "time, list path / sg_table path (no IOMMU)"))

    md.append("\n## Revoke and move (median)\n")
    md.append("| MRs | revoke [us] | move [us] | move, no MR [us] |")
    md.append("|---:|---:|---:|---:|")
    for r in rev:
        md.append(f"| {r['mrs']} | {r['revoke_us']:.1f} | {r['move_us']:.1f} | {r['move_us_no_mr']:.1f} |")
        if not r["revoke_us"] > 0:
            problems.append(f"revoke {r['mrs']}: {r['revoke_us']}")
    plot_revoke(d, rev)
    rf = load(os.path.join(d, "refault.json"))[0]
    md.append(f"\nRe-fault of an on-demand MR after a move ({rf['moves']} moves, "
              f"{rf['msg_size']}-byte RDMA WRITE, {rf['buffer_bytes']}-byte buffer of "
              f"{rf['extent']}-byte extents): steady WRITE {rf['write_us_steady']:.1f} us, "
              f"first WRITE after the move {rf['write_us_after_move']:.1f} us, "
              f"re-fault {rf['refault_us']:.1f} us (medians).\n")
    if not rf["write_us_steady"] > 0 or not rf["write_us_after_move"] > 0:
        problems.append(f"refault: {rf}")

    md.append("\n## Bandwidth (BW average, MiB/s)\n")
    for verb in ("write", "read", "send"):
        runs = []
        for path in sorted(glob.glob(os.path.join(d, f"bw-{verb}-*.json"))):
            name = os.path.basename(path)[len(f"bw-{verb}-"):-len(".json")]
            mem, how = name.rsplit("-", 1)
            bw = load(path)
            check_bw(os.path.basename(path), bw, problems)
            runs.append((f"{mem.replace('_', ':')} {'dma-buf' if how == 'dmabuf' else 'reg_mr'}", bw))
        if not runs:
            problems.append(f"no bandwidth results for {verb}")
            continue
        with open(os.path.join(d, f"bw-{verb}.csv"), "w") as f:
            f.write("memory,registration,MsgSize,n_iterations,BW_peak,BW_average,MsgRate\n")
            for name, bw in runs:
                mem, how = name.rsplit(" ", 1)
                for r in results_of(bw):
                    f.write(f"{mem},{how},{r['MsgSize']},{r['n_iterations']},{r['BW_peak']},"
                            f"{r['BW_average']},{r['MsgRate']}\n")
        sizes = [r["MsgSize"] for r in results_of(runs[0][1])]
        show = [s for s in sizes if s in (64, 4096, 65536, 1 << 20, 8 << 20)] or sizes
        md.append(f"### {verb.upper()}\n")
        md.append("| memory, registration | " + " | ".join(f"{s} B" for s in show) + " |")
        md.append("|---|" + "---:|" * len(show))
        for name, bw in runs:
            md.append(f"| {name} | " + " | ".join(
                f"{bw_at(bw, s):.1f}" if bw_at(bw, s) else "-" for s in show) + " |")
        md.append("\nThe table shows one run each (round 1). The compared pair, a dma-buf MR "
                  "and ibv_reg_mr of the same udmabuf pages, ran in alternating rounds; "
                  "BW average ratio dma-buf / reg_mr per round:\n")
        ratios = round_ratios(d, f"bw-{verb}-udmabuf-dmabuf-r%d.json",
                              f"bw-{verb}-udmabuf-reg_mr-r%d.json", f"{verb} rounds", problems)
        label = ""
        if ratios:
            md.append("| size | rounds | median | min | max | |")
            md.append("|---:|---:|---:|---:|---:|---|")
            for size in sorted(ratios):
                if size not in show and size != max(ratios):
                    continue
                med, lo, hi = small_sample(ratios[size])
                md.append(f"| {size} B | {len(ratios[size])} | {med:.2f} | {lo:.2f} | {hi:.2f} "
                          f"| {verdict(lo, hi)} |")
            top = max(ratios)
            med, note = spread_note(ratios[top])
            label = f"udmabuf dma-buf/reg_mr at {top} B: {med:.2f}, {note}"
            summary.append((f"{verb.upper()} bandwidth, udmabuf, {top} B", med,
                            f"dma-buf MR / ibv_reg_mr of the same pages, {note}"))
        plot_bw(d, verb, runs, label)

    md.append("\n## Side by side with perftest (ib_write_bw, same VM, same size)\n")
    md.append("Alternating rounds, perftest and pal_bench taking turns to go first; BW average "
              "of round 1, and the pal_bench/perftest ratio over every round.\n")
    md.append("| memory | TX depth, CQ moderation | perftest BW average | pal_bench BW average "
              "| pal_bench/perftest: median | min | max | |")
    md.append("|---|---|---:|---:|---:|---:|---:|---|")
    for mem in ("host", "udmabuf"):
        pt, pb = load(os.path.join(d, f"perftest-{mem}.json")), load(os.path.join(d, f"pal_bench-{mem}.json"))
        for fa, fb in zip(round_files(d, f"perftest-{mem}-r%d.json"),
                          round_files(d, f"pal_bench-{mem}-r%d.json")):
            check_pair(f"{os.path.basename(fa)} vs {os.path.basename(fb)}", load(fa), load(fb),
                       problems)
        ratios = round_ratios(d, f"pal_bench-{mem}-r%d.json", f"perftest-{mem}-r%d.json",
                              f"perftest {mem} rounds", problems)
        if not ratios:
            continue
        a, b = float(results_of(pt)[0]["BW_average"]), float(results_of(pb)[0]["BW_average"])
        values = ratios[max(ratios)]
        med, lo, hi = small_sample(values)
        note = spread_note(values)[1]
        ti = pb["test_info"]
        md.append(f"| {mem}{' (dma-buf)' if mem != 'host' else ''} | "
                  f"{ti['TX_depth']}, {ti['CQ_Moderation']} | {a:.1f} | {b:.1f} | {med:.2f} | "
                  f"{lo:.2f} | {hi:.2f} | {verdict(lo, hi)} |")
        summary.append((f"pal_bench vs perftest ib_write_bw, {mem}", med,
                        f"bandwidth, same VM and size, {note}"))

    side_by_side(d, reg, summary, problems, md)

    md.append("\nPlots: reg.png/.svg, reg-meta.png/.svg, reg-many.png/.svg, reg-large.png/.svg, "
              "reg-windows.png/.svg, import.png/.svg, import-windows.png/.svg, bw-write/read/send.png/.svg, revoke.png/.svg. "
              "Numbers are from a TCG-emulated guest: compare paths with each other, not with hardware.\n")
    table = ["## Summary: PAL path / baseline\n", "| measurement | ratio | what is compared |",
             "|---|---:|---|"]
    table += [f"| {w} | {r:.3g} | {n} |" for w, r, n in summary]
    table += report_scale.goals_table(goals)
    md[md.index("SUMMARY_PLACEHOLDER")] = "\n".join(table) + "\n"
    with open(os.path.join(d, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    # The summary for other tools (scripts/kernel-rfc.sh puts it in the
    # cover letters): the same rows and the kernel they were measured on.
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump({"kernel": kernel_note(os.path.join(d, "kernel-config.txt")).strip(),
                   "sweeps": sweeps_of(os.path.join(d, "kernel-config.txt")),
                   "rows": [{"what": w, "ratio": r, "compared": n} for w, r, n in summary]},
                  f, indent=1)
    if problems:
        print("inconsistent results:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"report: {os.path.join(d, 'report.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
