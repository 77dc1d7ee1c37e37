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


def plot_bw(d, verb, runs):
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
set label 1 '{bw_ratio_label(runs)}' at graph 0.02, graph 0.95 font ',9'
plot {', '.join(lines)}
""", os.path.join(d, f"bw-{verb}"))


def bw_at(bw, size):
    for r in results_of(bw):
        if r["MsgSize"] == size:
            return r["BW_average"]
    return None


def bw_ratio_label(runs):
    by = dict(runs)
    pal, base = by.get("udmabuf dma-buf"), by.get("udmabuf reg_mr")
    if not pal or not base:
        return ""
    size = max(r["MsgSize"] for r in results_of(pal))
    a, b = bw_at(pal, size), bw_at(base, size)
    return f"udmabuf dma-buf/reg_mr at {size} B: {a / b:.2f}" if a and b else ""


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
        label = bw_ratio_label(runs)
        if label:
            md.append(f"\n{label}\n")
            by = dict(runs)
            top = max(r["MsgSize"] for r in results_of(by["udmabuf dma-buf"]))
            summary.append((f"{verb.upper()} bandwidth, udmabuf, {top} B",
                            bw_at(by["udmabuf dma-buf"], top) / bw_at(by["udmabuf reg_mr"], top),
                            "dma-buf MR / ibv_reg_mr of the same pages"))
        plot_bw(d, verb, runs)

    md.append("\n## Side by side with perftest (ib_write_bw, same VM, same size)\n")
    md.append("| memory | TX depth, CQ moderation | perftest BW average | pal_bench BW average "
              "| pal_bench/perftest |")
    md.append("|---|---|---:|---:|---:|")
    for mem in ("host", "udmabuf"):
        pt, pb = load(os.path.join(d, f"perftest-{mem}.json")), load(os.path.join(d, f"pal_bench-{mem}.json"))
        check_bw(f"pal_bench-{mem}", pb, problems)
        check_pair(f"perftest-{mem} vs pal_bench-{mem}", pt, pb, problems)
        a, b = float(results_of(pt)[0]["BW_average"]), float(results_of(pb)[0]["BW_average"])
        ti = pb["test_info"]
        md.append(f"| {mem}{' (dma-buf)' if mem != 'host' else ''} | "
                  f"{ti['TX_depth']}, {ti['CQ_Moderation']} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
        summary.append((f"pal_bench vs perftest ib_write_bw, {mem}", b / a, "bandwidth, same VM and size"))

    side_by_side(d, reg, summary, problems, md)

    md.append("\nPlots: reg.png/.svg, import.png/.svg, bw-write/read/send.png/.svg, revoke.png/.svg. "
              "Numbers are from a TCG-emulated guest: compare paths with each other, not with hardware.\n")
    table = ["## Summary: PAL path / baseline\n", "| measurement | ratio | what is compared |",
             "|---|---:|---|"]
    table += [f"| {w} | {r:.3g} | {n} |" for w, r, n in summary]
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
