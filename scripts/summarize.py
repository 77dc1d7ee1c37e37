#!/usr/bin/env python3
"""Fold ctest's JUnit report and the guest suite's TAP into one TAP stream.

    summarize.py JUNIT.xml [--tap NAME=FILE ...]

Each ctest test is one TAP line; a ctest test named in --tap is followed by
the TAP lines of FILE (indented names, prefixed "NAME/"). A TAP file that is
missing, has no plan, or whose plan does not match the tests it reports (a
guest run that died part-way) adds a failing line of its own, so tests that
never ran do not vanish. Ends with the plan and an "N passed, N failed"
line; exits 1 if anything failed or nothing ran.
"""
import re
import sys
import xml.etree.ElementTree as ET


def ctest_results(path):
    for case in ET.parse(path).getroot().iter("testcase"):
        failed = (case.find("failure") is not None
                  or case.find("error") is not None
                  or case.get("status") not in (None, "run"))
        yield case.get("name"), not failed


def tap_results(path):
    """The results of a TAP file, then one failing result per problem of
    the file itself: missing, no plan, or a plan the results do not fill."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        yield f"TAP file {path} missing ({e.strerror}): the run produced no results", False
        return
    plan, n = None, 0
    for line in lines:
        m = re.match(r"^(not )?ok \d+ - (.*)$", line)
        if m:
            n += 1
            yield m.group(2), m.group(1) is None
        m = re.match(r"^1\.\.(\d+)$", line)
        if m:
            plan = int(m.group(1))
    if plan is None:
        yield f"no TAP plan after {n} result(s): the run died part-way", False
    elif plan != n:
        yield f"TAP plan of {plan} test(s), {n} reported", False


def main(argv):
    junit, taps = argv[1], {}
    rest = argv[2:]
    while rest:
        if rest[0] != "--tap" or len(rest) < 2 or "=" not in rest[1]:
            sys.exit(__doc__)
        name, path = rest[1].split("=", 1)
        taps[name] = path
        rest = rest[2:]

    results = []
    for name, ok in ctest_results(junit):
        results.append((name, ok))
        if name in taps:
            results += [(f"{name}/{sub}", sub_ok)
                        for sub, sub_ok in tap_results(taps[name])]
    print("TAP version 13")
    for i, (name, ok) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    passed = sum(ok for _, ok in results)
    failed = len(results) - passed
    print(f"1..{len(results)}")
    print(f"{passed} passed, {failed} failed")
    return 0 if results and not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
