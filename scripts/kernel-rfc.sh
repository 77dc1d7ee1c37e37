#!/usr/bin/env bash
# Make the two RFC series a reviewer gets, from build/linux:
#
#   scripts/kernel-rfc.sh [--report DIR] [--out DIR]
#
#   build/rfc/dma-buf/  [RFC PATCH 00/N] cover letter and the dma-buf series:
#                       the list mapping core, its KUnit tests, the
#                       exporters, the importer DMA-map helper
#   build/rfc/rdma/     [RFC PATCH 00/M] cover letter and the RDMA
#                       series: fixes first, MR geometry, the list import in
#                       every mode, rxe, siw, the hardware drivers
#
# kernel/rfc/dma-buf.subjects lists the dma-buf series; it must be the
# first patches of kernel/patches, in that order, and the RDMA series is the
# rest, and may touch only RDMA files (drivers/infiniband, include/rdma,
# include/uapi/rdma). The series in kernel/patches is the posting order, and
# scripts/kernel-build-series.sh, which builds every commit of it, has
# built every step of both series. This script then checks that each series
# applies (git apply, mail by mail, in a private index) on its own base
# (dma-buf on the pristine 7.2.13 commit, RDMA on the dma-buf series) and
# ends at the tree it should: the dma-buf series at its last commit's
# tree, the RDMA series at the tree of build/linux's branch, which must hold
# exactly the patches of kernel/patches/series.
#
# The cover letters are kernel/rfc/<series>.cover (first line the subject,
# then the text) with @NUMBERS@ replaced by the summary table of a
# benchmark report: DIR/summary.json from scripts/report.py (default:
# results/bench of ./scripts/main.sh if it has one, else bench-smoke's
# build/cmake/vm-out/bench; numbers of a smoke run are labelled as such).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

report="" out=$BUILD_DIR/rfc
while [ $# -gt 0 ]; do
	case "$1" in
	--report) report=$2; shift ;;
	--out) out=$2; shift ;;
	-h|--help) sed -n '2,30p' "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done
if [ -z "$report" ]; then
	for d in "$RDMA_PAL_TOP/results/bench" "$BUILD_DIR/cmake/vm-out/bench"; do
		[ -f "$d/summary.json" ] && { report=$d; break; }
	done
fi
[ -n "$out" ] || die "--out needs a directory"
out=$(realpath -m -- "$out")
[ -n "$report" ] && [ -f "$report/summary.json" ] ||
	die "no benchmark summary (summary.json): run ./scripts/main.sh or the bench-smoke test, or pass --report DIR"
[ -d "$KTREE/.git" ] || die "no kernel tree at $KTREE: run scripts/kernel-tree.sh"
[ -z "$(git -C "$KTREE" status --porcelain --untracked-files=no)" ] ||
	die "$KTREE has uncommitted changes: commit them first"

git -C "$KTREE" symbolic-ref -q HEAD >/dev/null ||
	die "$KTREE is not on a branch (a series build in progress or interrupted?)"
base=$(tree_base "$KTREE")
mapfile -t commits < <(git -C "$KTREE" rev-list --reverse "$base"..HEAD)
[ "${#commits[@]}" = "$(series_entries "$PATCH_DIR/series" | wc -l)" ] ||
	die "$KTREE has ${#commits[@]} commits, kernel/patches/series $(series_entries "$PATCH_DIR/series" | wc -l) patches"
subjects_file=$RDMA_PAL_TOP/kernel/rfc/dma-buf.subjects
[ -f "$subjects_file" ] || die "no $subjects_file"
mapfile -t dmabuf_subjects < <(sed -e '/^#/d' -e 's/[[:space:]]*$//' -e '/^$/d' "$subjects_file")
n_dmabuf=${#dmabuf_subjects[@]}
[ "$n_dmabuf" -gt 0 ] && [ "$n_dmabuf" -lt "${#commits[@]}" ] ||
	die "kernel/rfc/dma-buf.subjects must name some, not all, of the ${#commits[@]} patches"
for i in "${!dmabuf_subjects[@]}"; do
	got=$(git -C "$KTREE" log -1 --format=%s "${commits[$i]}")
	[ "$got" = "${dmabuf_subjects[$i]}" ] ||
		die "patch $((i + 1)) is '$got', but kernel/rfc/dma-buf.subjects has '${dmabuf_subjects[$i]}' there: the dma-buf series must come first, in its order"
done
split=${commits[$((n_dmabuf - 1))]}
# A dma-buf patch appended after the listed ones would start the RDMA series.
for c in "${commits[@]:$n_dmabuf}"; do
	other=$(git -C "$KTREE" diff-tree --no-commit-id --name-only -r "$c" |
		grep -v -E '^(drivers/infiniband/|include/rdma/|include/uapi/rdma/)' || true)
	[ -z "$other" ] || die "'$(git -C "$KTREE" log -1 --format=%s "$c")' is in the RDMA series but touches $other: list it in kernel/rfc/dma-buf.subjects or move it"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The numbers, as plain text for a mail.
numbers=$(python3 - "$report/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
kernel = s["kernel"].replace("`", "")
out = []
if s.get("sweeps") != "full":
    out += ["These are numbers of a smoke run (tiny sizes, a few repetitions):",
            "they show the benchmark works, not what the paths cost. The full",
            "sweeps come from ./scripts/main.sh.", ""]
out += ["Soft-RoCE and soft-iWARP in a QEMU guest under TCG (no KVM): compare",
        "the two paths with each other, not with hardware. Ratio = list path",
        "(PAL) / baseline; below 1 is faster for times, above 1 for bandwidth.", ""]
import textwrap
out += textwrap.wrap(kernel, 72) + [""]
for r in s["rows"]:
    out.append(f"  {r['ratio']:7.3g}  {r['what']}")
    out += ["           " + l for l in textwrap.wrap(r["compared"], 61)]
print("\n".join(out))
PY
)

# series NAME FIRST LAST PREFIX: format commits FIRST..LAST (indices) with a
# cover letter from kernel/rfc/NAME.cover.
series() {
	local name=$1 first=$2 last=$3 prefix=$4 dir=$out/$1 cover subject
	local template=$RDMA_PAL_TOP/kernel/rfc/$1.cover
	local range="${commits[$first]}^..${commits[$last]}"
	rm -rf "$dir"
	mkdir -p "$dir"
	git -C "$KTREE" format-patch -q --cover-letter --zero-commit --no-signature \
		--subject-prefix="$prefix" -o "$dir" "$range"
	cover=$dir/0000-cover-letter.patch
	[ -f "$cover" ] || die "$name: git format-patch wrote no cover letter"
	subject=$(head -n 1 "$template")
	[ -n "$subject" ] && [ -z "$(sed -n 2p "$template")" ] ||
		die "$template: line 1 must be the subject and line 2 empty"
	tail -n +3 "$template" >"$tmp/$name.body"
	python3 - "$cover" "$subject" "$tmp/$name.body" "$numbers" <<'PY'
import sys
path, subject, body_file, numbers = sys.argv[1:]
text = open(path).read()
body = open(body_file).read()
if "@NUMBERS@" not in body or "*** SUBJECT HERE ***" not in text or "*** BLURB HERE ***\n" not in text:
    sys.exit(f"{path}: no placeholder to fill")
body = body.replace("@NUMBERS@", numbers.rstrip("\n"))
text = text.replace("*** SUBJECT HERE ***", subject).replace("*** BLURB HERE ***\n", body)
open(path, "w").write(text)
PY
	log "$name: $(ls "$dir" | wc -l) files in $dir (cover letter and $((last - first + 1)) patches)"
}

# apply_check NAME BASE EXPECTED_TREE: the series' patches apply in order on
# BASE (in a private index: no work tree is touched) and give EXPECTED_TREE.
apply_check() {
	local name=$1 base_rev=$2 want=$3 idx=$tmp/$1.index p got
	GIT_INDEX_FILE=$idx git -C "$KTREE" read-tree "$base_rev"
	for p in "$out/$name"/0[0-9][0-9][0-9]-*.patch; do
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		GIT_INDEX_FILE=$idx git -C "$KTREE" apply --cached "$p" ||
			die "$name: $(basename "$p") does not apply"
	done
	got=$(GIT_INDEX_FILE=$idx git -C "$KTREE" write-tree)
	[ "$got" = "$want" ] || die "$name: the series applies but does not end at the expected tree"
	log "$name: applies on its base and ends at the expected tree"
}

series dma-buf 0 $((n_dmabuf - 1)) "RFC PATCH"
series rdma "$n_dmabuf" $((${#commits[@]} - 1)) "RFC PATCH"
apply_check dma-buf "$base" "$(git -C "$KTREE" rev-parse "$split^{tree}")"
apply_check rdma "$split" "$(git -C "$KTREE" rev-parse "HEAD^{tree}")"
log "numbers from $report/summary.json"
