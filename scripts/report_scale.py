"""Sections of the benchmark report about scale (issue 17): metadata as the
kernel measures it, many MRs on one buffer, large buffers, the import
behind an IOMMU, and the table of goals met and not met.

Each section function appends markdown to md, problems to problems (a
missing or inconsistent result) and goals to goals: (goal, measured,
verdict) rows for goals_table(). They take the results directory d; the
large hugetlb sweep lives in d/large (a boot of its own in the main job) or
in d itself (bench-smoke), the IOMMU import in d/iommu.
"""
import os

from report import gnuplot, human, load, loglog_slope, plot_vs_buffer


def load_opt(path):
    return load(path) if os.path.exists(path) else None


def met(ok):
    return "met" if ok else "**not met**"


# lib/scatterlist on x86-64: 32-byte entries, allocated in chunks of a page
# (SG_MAX_SINGLE_ALLOC, 128 entries) whose last entry chains to the next;
# the last chunk is a kmalloc() of what is left; struct sg_table is 16 bytes.
SG_ENTRY, SG_PAGE, SG_TABLE = 32, 4096, 16


def kmalloc_bytes(n):
    """What kmalloc() takes for n bytes (its buckets up to 8 KiB, whole
    pages of a power-of-two order beyond)."""
    for b in (8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192):
        if n <= b:
            return b
    pages = 1
    while pages * 4096 < n:
        pages *= 2
    return pages * 4096


def sg_table_alloc_bytes(entries):
    """What sg_alloc_table() and sg_alloc_table_from_pages() allocate for a
    table of this many entries: the header, full chunks of a page with one
    entry of each spent on the chain, and the last chunk."""
    per_chunk = SG_PAGE // SG_ENTRY
    total, left = kmalloc_bytes(SG_TABLE), entries
    while left > per_chunk:
        total += SG_PAGE
        left -= per_chunk - 1
    return total + (SG_PAGE if left == per_chunk else kmalloc_bytes(left * SG_ENTRY))


def per_mr_meta(r, path):
    """Bytes one MR of a reg row keeps, the list its buffer shares included
    once (a single MR pays it alone), or None if not measured."""
    own = r.get(f"mr_bytes_{path}")
    if own is None:
        return None
    return own + r.get(f"list_bytes_{path}", 0) // max(r.get("mrs", 1), 1)


def reg_meta_section(d, reg, summary, goals, problems, md):
    """rxe MRs: what a dma-buf MR keeps against ibv_reg_mr of the same pages
    (udmabuf) or of anonymous memory (the test exporter), as restrack
    reports it."""
    rows = [r for r in reg if "mr_bytes_pal" in r]
    if len(rows) != len(reg):
        problems.append(f"reg: {len(reg) - len(rows)} row(s) without measured metadata "
                        "(restrack's mr_bytes)")
    if not rows:
        return
    md.append("\n## Metadata an MR keeps, measured (soft-RoCE)\n")
    md.append("What the kernel reports in restrack for each MR ('rdma -dd resource show mr'): "
              "`mr_bytes`, what the MR keeps to translate its addresses: for a dma-buf MR its "
              "extents, for ibv_reg_mr its page array, as allocated (kmalloc buckets, vmalloc "
              "pages), and its umem's sg_table entries, counted (32 bytes each); and "
              "`dmabuf_list_bytes`, the exporter's list, as allocated, which every MR of the "
              "buffer shares. One MR of the whole buffer pays for "
              "the list alone; N MRs share it.\n")
    md.append("| memory | size | extents | dma-buf MR [B] | its list [B] | ibv_reg_mr [B] "
              "| baseline memory | per MR / ibv_reg_mr | with the list / ibv_reg_mr |")
    md.append("|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        base = r.get("mr_bytes_baseline")
        own, lst = r["mr_bytes_pal"], r.get("list_bytes_pal", 0)
        if not own > 0:
            problems.append(f"reg {r['memory']} {r['size']}: mr_bytes_pal = {own}")
        ratio = f"{own / base:.3f}" if base else "-"
        ratio_l = f"{(own + lst) / base:.3f}" if base else "-"
        md.append(f"| {r['memory']} | {human(r['size'])} | {r['extents']} | {own} | {lst} | "
                  f"{base if base is not None else '-'} | {r['baseline_memory']} | {ratio} | "
                  f"{ratio_l} |")
    plot_reg_meta(d, rows)
    # The goal for rxe: at most half of its own ibv_reg_mr of the
    # same pages (udmabuf), at the largest size, fully fragmented or not.
    same = [r for r in rows if r["baseline_memory"] == "same pages" and r.get("mr_bytes_baseline")]
    if same:
        big = max(same, key=lambda r: r["size"])
        own = big["mr_bytes_pal"] / big["mr_bytes_baseline"]
        full = (big["mr_bytes_pal"] + big.get("list_bytes_pal", 0)) / big["mr_bytes_baseline"]
        summary.append((f"metadata, rxe dma-buf MR, {big['memory']}, {human(big['size'])}",
                        full, "bytes kept with the exporter's list / ibv_reg_mr of the same "
                        "pages (restrack)"))
        goals.append((f"rxe: metadata <= 0.5x of its own ibv_reg_mr of the same pages "
                      f"({big['memory']}, {human(big['size'])}, {big['extents']} extents)",
                      f"{own:.3f} per MR; {full:.3f} with the exporter's list counted "
                      "for this one MR", met(full <= 0.5)))


def plot_reg_meta(d, rows):
    specs = list(dict.fromkeys(r["memory"] for r in rows))
    lines, data = [], os.path.join(d, "reg-meta.dat")
    with open(data, "w") as f:
        for i, spec in enumerate(specs):
            sr = [r for r in rows if r["memory"] == spec]
            f.write(f"# {spec}\n")
            for r in sr:
                f.write(f"{r['size']} {r['mr_bytes_pal'] + r.get('list_bytes_pal', 0)} "
                        f"{r.get('mr_bytes_baseline', 0) or 'NaN'}\n")
            f.write("\n\n")
            sp = loglog_slope([(r["size"], r["mr_bytes_pal"] + r.get("list_bytes_pal", 0))
                               for r in sr])
            sb = loglog_slope([(r["size"], r.get("mr_bytes_baseline", 0)) for r in sr])
            tp = f" (slope {sp:.2f})" if sp is not None else ""
            tb = f" (slope {sb:.2f})" if sb is not None else ""
            lines.append(f"'{data}' index {i} using 1:2 with linespoints "
                         f"title '{spec}: dma-buf MR with its list{tp}'")
            lines.append(f"'{data}' index {i} using 1:3 with linespoints dt 2 "
                         f"title '{spec}: ibv_reg_mr{tb}'")
    plot_vs_buffer(os.path.join(d, "reg-meta"), "Metadata an MR keeps, measured (soft-RoCE)",
                   [r["size"] for r in rows], "bytes (restrack)", lines)


def many_section(d, goals, problems, md):
    """1 to 10,000 windows held on one buffer, against the buffer's size."""
    many = load_opt(os.path.join(d, "reg-many.json"))
    if not many:
        problems.append("reg many: no results")
        return
    md.append("\n## Many MRs on one buffer: per-MR cost vs buffer size\n")
    md.append("N windows of 64 KiB registered on one fully fragmented buffer (4 KiB extents, "
              "shuffled) and held together; where more are held than fit, they overlap. Time "
              "per MR, median (min-max over every MR of every repetition); the baseline "
              "registers the same windows of anonymous memory.\n")
    if debug_validates(d):
        md.append("This kernel has DMABUF_DEBUG, which checks an exporter's whole list again "
                  "at every map: here every registration costs O(buffer) by design, and the "
                  "per-MR cost grows with the buffer. The bench kernel has it off.\n")
    sizes = sorted({r["size"] for r in many})
    counts = sorted({r["mrs"] for r in many})
    md.append("| MRs | " + " | ".join(f"{human(s)}: dma-buf [us]" for s in sizes) +
              " | ibv_reg_mr [us], smallest | largest / smallest buffer |")
    md.append("|---:|" + "---:|" * len(sizes) + "---:|---:|")
    lines, data = [], os.path.join(d, "reg-many.dat")
    worst = None
    with open(data, "w") as f:
        for i, n in enumerate(counts):
            rows = sorted((r for r in many if r["mrs"] == n), key=lambda r: r["size"])
            f.write(f"# {n} MRs\n")
            for r in rows:
                if not r["reg_us_pal"] > 0:
                    problems.append(f"reg many {n} {r['size']}: reg_us_pal = {r['reg_us_pal']}")
                f.write(f"{r['size']} {r['reg_us_pal']} {r['reg_us_pal_min']} "
                        f"{r['reg_us_pal_max']}\n")
            f.write("\n\n")
            sl = loglog_slope([(r["size"], r["reg_us_pal"]) for r in rows])
            tag = f" (slope {sl:.2f})" if sl is not None else ""
            lines.append(f"'{data}' index {i} using 1:2:3:4 with yerrorlines "
                         f"title '{n} MRs{tag}'")
            cells = []
            for s in sizes:
                r = next((x for x in rows if x["size"] == s), None)
                cells.append(f"{r['reg_us_pal']:.1f} ({r['reg_us_pal_min']:.1f}-"
                             f"{r['reg_us_pal_max']:.1f})" if r else "-")
            ratio = (rows[-1]["reg_us_pal"] / rows[0]["reg_us_pal"]
                     if len(rows) > 1 and rows[0]["reg_us_pal"] > 0 else None)
            if ratio is not None and (worst is None or ratio > worst[1]):
                worst = (n, ratio)
            md.append(f"| {n} | " + " | ".join(cells) +
                      f" | {rows[0].get('reg_us_baseline', 0):.1f} | "
                      f"{f'{ratio:.2f}' if ratio is not None else '-'} |")
    plot_vs_buffer(os.path.join(d, "reg-many"),
                   "Registration of 64 KiB windows held on one buffer, per MR (soft-RoCE)",
                   sizes, "time per MR [us], median, min-max", lines)
    if worst and len(sizes) > 1:
        ratios = []
        for n in counts:
            rows = sorted((r for r in many if r["mrs"] == n), key=lambda r: r["size"])
            if len(rows) > 1 and rows[0]["reg_us_pal"] > 0:
                ratios.append(rows[-1]["reg_us_pal"] / rows[0]["reg_us_pal"])
        goals.append((f"per-MR registration on a {human(sizes[-1])} buffer within 1.2x of the "
                      f"same window on a {human(sizes[0])} buffer (1 to {counts[-1]} MRs)",
                      f"{min(ratios):.2f}-{max(ratios):.2f} (worst: {worst[0]} MRs)",
                      met(max(ratios) <= 1.2)))


def large_rows(d):
    """The large hugetlb sweep: d/large in the main job, d in bench-smoke."""
    for path in (os.path.join(d, "large", "reg-large-huge.json"),
                 os.path.join(d, "reg-large-huge.json")):
        rows = load_opt(path)
        if rows is not None:
            return rows, path
    return None, None


def large_section(d, goals, problems, md):
    """Buffers of 1 GiB and more: the test exporter's layouts against
    anonymous memory, and hugetlb folios against the same pages."""
    lt = load_opt(os.path.join(d, "reg-large-testexp.json"))
    lh, lh_path = large_rows(d)
    if not lt or not lh:
        problems.append("reg large: no results")
        return
    md.append("\n## Registration of large buffers (soft-RoCE)\n")
    md.append("A whole-buffer dma-buf MR against ibv_reg_mr: of anonymous 4 KiB memory of the "
              "same size (the test exporter's buffers, whose pages cannot be pinned by "
              "address), and of the very same pages (hugetlb folios through udmabuf), with "
              "anonymous memory beside them where the guest has room. Median of the "
              "repetitions; a baseline that failed shows its errno.\n")
    md.append("| memory | size | extents | dma-buf [us] | ibv_reg_mr [us] | baseline memory "
              "| anonymous [us] | baseline / dma-buf | dma-buf MR [B] | its list [B] "
              "| ibv_reg_mr [B] |")
    md.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in lt + lh:
        if not r["reg_us_pal"] > 0:
            problems.append(f"reg large {r['memory']} {r['size']}: reg_us_pal = {r['reg_us_pal']}")
        base = (f"{r['reg_us_baseline']:.1f}" if "reg_us_baseline" in r
                else r.get("baseline_error", "-"))
        anon = (f"{r['reg_us_anon']:.1f}" if "reg_us_anon" in r
                else r.get("anon_error", "-"))
        speed = (f"{r['reg_us_baseline'] / r['reg_us_pal']:.1f}x"
                 if "reg_us_baseline" in r and r["reg_us_pal"] > 0 else "-")
        md.append(f"| {r['memory']} | {human(r['size'])} | {r['extents']} | "
                  f"{r['reg_us_pal']:.1f} | {base} | {r['baseline_memory']} | {anon} | {speed} | "
                  f"{r.get('mr_bytes_pal', '-')} | {r.get('list_bytes_pal', '-')} | "
                  f"{r.get('mr_bytes_baseline', '-')} |")
    if os.path.basename(os.path.dirname(lh_path)) == "large":
        got = load_opt_text(os.path.join(d, "large", "hugepages-1g.txt"))
        md.append(f"\nThe 1 GiB folios: {got or '?'} reserved at boot in a guest of their own "
                  "(as many as the host could lend, up to 16); sizes above that were not "
                  "measured.\n")
    plot_large(d, lh)
    # Goals: 1 GiB of 2 MiB extents against anonymous 4 KiB memory.
    r2m = next((r for r in lt if r["memory"].startswith("testexp:2M")
                and "reg_us_baseline" in r), None)
    if r2m and r2m["baseline_memory"] == "anonymous":
        x = r2m["reg_us_baseline"] / r2m["reg_us_pal"]
        goals.append((f"{human(r2m['size'])} of 2 MiB extents registers >= 50x faster than "
                      "ibv_reg_mr of anonymous 4 KiB memory of the same size",
                      f"{x:.1f}x ({r2m['reg_us_pal']:.1f} vs {r2m['reg_us_baseline']:.1f} us)",
                      met(x >= 50)))
    big = [r for r in lh if r["size"] >= 1 << 30]
    if big:
        worst = max(r["reg_us_pal"] for r in big)
        ext = sorted({r["extents"] for r in big})
        sl = loglog_slope([(r["size"], r["reg_us_pal"]) for r in big])
        slope = f", log-log slope {sl:.2f}" if sl is not None else ""
        goals.append(("an MR of 1 GiB folios registers in <= 100 us at every size from 1 GiB "
                      "to 16 GiB (flat)",
                      f"at most {worst:.1f} us over {human(big[0]['size'])}-"
                      f"{human(big[-1]['size'])}{slope}; {', '.join(map(str, ext))} "
                      "extent(s) (adjacent folios merge)",
                      met(worst <= 100 and big[-1]["size"] >= 16 << 30)))


def debug_validates(d):
    """Whether the kernel measured re-checks lists at every map."""
    return "CONFIG_DMABUF_DEBUG=y" in (load_opt_text(os.path.join(d, "kernel-config.txt")) or "")


def load_opt_text(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read().strip()


def plot_large(d, lh):
    lines, data = [], os.path.join(d, "reg-large.dat")
    with open(data, "w") as f:
        for r in lh:
            f.write(f"{r['size']} {r['reg_us_pal']} {r['reg_us_pal_min']} {r['reg_us_pal_max']} "
                    f"{r.get('reg_us_baseline', 'NaN')} {r.get('reg_us_baseline_min', 'NaN')} "
                    f"{r.get('reg_us_baseline_max', 'NaN')} {r.get('reg_us_anon', 'NaN')}\n")
    sp = loglog_slope([(r["size"], r["reg_us_pal"]) for r in lh])
    sb = loglog_slope([(r["size"], r["reg_us_baseline"]) for r in lh if "reg_us_baseline" in r])
    lines.append(f"'{data}' using 1:2:3:4 with yerrorlines title 'dma-buf MR"
                 f"{f' (slope {sp:.2f})' if sp is not None else ''}'")
    lines.append(f"'{data}' using 1:5:6:7 with yerrorlines dt 2 title 'ibv_reg_mr, same pages"
                 f"{f' (slope {sb:.2f})' if sb is not None else ''}'")
    lines.append(f"'{data}' using 1:8 with points pt 7 title 'ibv_reg_mr, anonymous 4 KiB'")
    plot_vs_buffer(os.path.join(d, "reg-large"),
                   f"Registration of large buffers of {lh[0]['memory']} folios (soft-RoCE)",
                   [r["size"] for r in lh], "registration time [us], median, min-max", lines)


def import_pair(imp, size, extent, mode):
    p = {r["path"]: r for r in imp if r["size"] == size and r["extent_size"] == extent
         and r.get("mode", "revocable") == mode}
    return p.get("pal"), p.get("sgt")


def import_goals(d, imp, summary, goals, problems, md):
    """Fully fragmented imports for a DMA device, without and behind an
    IOMMU: time and metadata of the list path against the sg_table's."""
    iommu = load_opt(os.path.join(d, "iommu", "import.json"))
    if not iommu:
        problems.append("import behind an IOMMU: no results")
    md.append("\n## Kernel import for a DMA device, without and behind an IOMMU\n")
    md.append("The largest fully fragmented buffer of each boot (the smallest extent measured), "
              "pinned-revocable mode (irdma's); time is import + geometry. Metadata as "
              "allocated: the import's own (extents or sg_table) and the exporter's list, which "
              "the list imports of one buffer share. On a kernel with DMABUF_DEBUG the "
              "sg_table an importer holds is dma-buf's copy of the DMA-mapped entries (one "
              "behind an IOMMU), not the exporter's table, which it cannot reach: compare the "
              "sg_table's metadata on the bench kernel only. The kernel counts an sg_table's "
              "entries (32 bytes each). The modelled allocation adds what lib/scatterlist "
              "allocates beyond them (one entry of every page-sized chunk of 128 spent on the "
              "chain to the next, the last chunk rounded to its kmalloc bucket) and the "
              "16-byte struct sg_table the exporter allocates; the goals compare against it, "
              "as the list's side is as allocated too (vmalloc's own bookkeeping of large "
              "arrays left out on both sides).\n")
    md.append("| IOMMU | size | extent | list [us] | sg_table [us] | time list/sg | "
              "list: own [B] | list: exporter's list [B] | sg_table, counted [B] | "
              "sg_table, modelled allocation [B] | own / sg | with the list / sg |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    # DMABUF_DEBUG hands importers a copy of the DMA-mapped entries (one
    # behind an IOMMU): no figure for the exporter's sg_table to judge by.
    debug = debug_validates(d)
    if debug:
        md.append("This kernel has DMABUF_DEBUG: the sg_table metadata below is dma-buf's "
                  "debug copy, and the metadata goals are not judged in this run.\n")
    worst_meta = []
    for name, rows in (("no", imp), ("yes", iommu or [])):
        if not rows:
            continue
        e = min(r["extent_size"] for r in rows)
        size = max(r["size"] for r in rows if r["extent_size"] == e)
        pal, sgt = import_pair(rows, size, e, "revocable")
        if not pal or not sgt:
            problems.append(f"import (IOMMU {name}): no pair at {size}/{e}")
            continue
        tp = pal["import_us"] + pal["geometry_us"]
        ts = sgt["import_us"] + sgt["geometry_us"]
        lst = pal.get("list_bytes", 0)
        own = pal["meta_bytes"] - lst
        if name == "yes" and pal["extents"] != 1:
            problems.append(f"import behind an IOMMU: {pal['extents']} extents, expected one")
        sg_alloc = sg_table_alloc_bytes(sgt["meta_bytes"] // SG_ENTRY)
        md.append(f"| {name} | {human(size)} | {human(e)} | {tp:.1f} | {ts:.1f} | "
                  f"{tp / ts:.2f} | {own} | {lst} | {sgt['meta_bytes']} | {sg_alloc} | "
                  f"{own / sg_alloc:.3f} | {pal['meta_bytes'] / sg_alloc:.3f} |")
        goals.append((f"fully fragmented import ({human(e)} extents, {human(size)}), "
                      f"{'behind an' if name == 'yes' else 'without an'} IOMMU: list-path time "
                      "<= 1.0x of the sg path", f"{tp / ts:.2f}", met(tp / ts <= 1.0)))
        if name == "yes":
            summary.append((f"kernel import behind an IOMMU, {human(size)} of {human(e)} extents",
                            tp / ts, "time, list path / sg_table path"))
        if debug:
            continue
        if name == "yes":
            goals.append(("metadata <= 0.5x of the sg path behind an IOMMU",
                          f"{own / sg_alloc:.4f} per import; "
                          f"{pal['meta_bytes'] / sg_alloc:.4f} with the exporter's "
                          "list counted for this one import, against the sg_table's "
                          "modelled allocation (chain entries and header counted); "
                          f"{pal['meta_bytes'] / sgt['meta_bytes']:.4f} against its "
                          "entries alone",
                          met(pal["meta_bytes"] / sg_alloc <= 0.5)))
        worst_meta.append((pal["meta_bytes"] / sg_alloc,
                           f"import, IOMMU {name}, {human(size)} of {human(e)}"))
    return worst_meta


def goals_table(goals):
    out = ["\n## Goals of issue 17, as measured in this run\n",
           "| goal | measured | |", "|---|---|---|"]
    out += [f"| {g} | {m} | {v} |" for g, m, v in goals]
    return out
