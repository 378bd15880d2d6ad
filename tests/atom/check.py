"""Checks Atom feed documents: each must parse with feedparser without a
flagged problem ("bozo") and validate against RFC 4287's RELAX NG schema
(tests/atom/atom.rnc). Prints each problem; exits 1 when there is one.

    check.py FEED.xml [FEED.xml ...]
"""

import pathlib
import sys

import feedparser
import lxml.etree as etree
import rnc2rng

HERE = pathlib.Path(__file__).resolve().parent


def schema():
    rng = rnc2rng.dumps(rnc2rng.load(str(HERE / "atom.rnc")))
    # The compact syntax's `namespace local = ""` has no XML form.
    rng = rng.replace('xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(rng.encode()))


def main(paths):
    atom = schema()
    problems = []
    for path in paths:
        data = pathlib.Path(path).read_bytes()
        parsed = feedparser.parse(data)
        if parsed.bozo:
            problems.append(f"{path}: feedparser: {parsed.bozo_exception!r}")
        if parsed.version != "atom10":
            problems.append(f"{path}: feedparser reads it as {parsed.version!r}, not Atom 1.0")
        document = etree.fromstring(data)
        if not atom.validate(document):
            for error in atom.error_log:
                problems.append(f"{path}: RELAX NG line {error.line}: {error.message}")
        print(f"{path}: {len(parsed.entries)} entries")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
