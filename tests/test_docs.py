"""The documentation against the code and the benchmark results.

- Every public name (``__all__`` of ``skemotion`` and of each public submodule) is
  documented in the API reference, ``docs/api.md``.
- The "?" link of an estimator's HTML representation points at the anchor Sphinx
  writes for it in the API reference (a slow test builds that page to check).
- Every benchmark figure quoted in ``docs/*.md`` and ``README.md`` is the figure of the
  results file it cites (the results are the truth; see :func:`check_figures`).
"""

import importlib
import inspect
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

import skemotion

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "results"
API = DOCS / "api.md"


def public_modules():
    """skemotion and its public submodules (no part of the dotted name starts with _)."""
    names = ["skemotion"]
    for info in pkgutil.walk_packages(skemotion.__path__, "skemotion."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def public_names():
    """(module, name, object) for every name of every public module's ``__all__``."""
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            yield module_name, name, getattr(module, name)


# ``.. autoclass:: skemotion.TextEncoder`` and the like, and ``.. py:data::``.
DIRECTIVE = re.compile(r"^\.\. (?:auto\w+|py:\w+):: ([\w.]+)\s*$", re.M)


def documented(text=None):
    """The dotted names the API reference documents, mapped to their objects."""
    text = API.read_text(encoding="utf-8") if text is None else text
    out = {}
    for dotted in DIRECTIVE.findall(text):
        module_name, _, name = dotted.rpartition(".")
        out[dotted] = getattr(importlib.import_module(module_name), name)
    return out


def test_public_modules_are_found():
    assert {"skemotion.fusion", "skemotion.datasets", "skemotion.plots"} <= set(public_modules())


@pytest.mark.parametrize(
    "module_name, name", [(m, n) for m, n, _ in public_names()], ids=lambda v: v
)
def test_every_public_name_is_in_the_api_reference(module_name, name):
    """Documented under this module's path, or the same object under another path
    (the fusion estimators are documented as ``skemotion.LateFusionClassifier``)."""
    obj = getattr(importlib.import_module(module_name), name)
    entries = documented()
    here = f"{module_name}.{name}"
    assert here in entries or any(entries[path] is obj for path in entries), (
        f"{here} is public (in {module_name}.__all__) but docs/api.md does not document "
        f"it: add '.. autoclass:: {here}' (or autofunction, py:data) to the section it "
        "belongs to."
    )


def test_the_api_reference_documents_each_name_once():
    paths = DIRECTIVE.findall(API.read_text(encoding="utf-8"))
    assert len(paths) == len(set(paths)), sorted({p for p in paths if paths.count(p) > 1})


def estimators():
    """Each public estimator class, once, with the path the API reference uses."""
    entries = documented()
    seen = {}
    for module_name, name, obj in public_names():
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and obj not in seen.values():
            path = next((p for p in entries if entries[p] is obj), f"{module_name}.{name}")
            seen[path] = obj
    return seen


def doc_link(cls):
    """The URL of the "?" icon of the class's HTML repr, as scikit-learn computes it."""
    return object.__new__(cls)._get_doc_link()  # no __init__: the link needs none


@pytest.mark.parametrize("path", list(estimators()))
def test_html_repr_links_to_the_api_reference(path):
    """The link is <docs>/api.html#<the name autodoc documents the class under>."""
    cls = estimators()[path]
    url = doc_link(cls)
    page, _, anchor = url.rpartition("#")
    assert page.endswith("/api.html"), url
    assert anchor == path, f"{cls.__name__}'s '?' link goes to #{anchor}; api.md has {path}"
    assert path in documented()


@pytest.mark.slow
def test_the_api_page_has_the_anchors_the_links_point_to(tmp_path):
    """Build docs/api.md alone with Sphinx: every link's anchor is an id of api.html."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("numpydoc")
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(API, source / "index.md")
    (source / "conf.py").write_text(
        'extensions = ["myst_parser", "sphinx.ext.autodoc", "numpydoc"]\n'
        'source_suffix = {".md": "markdown"}\n'
        "numpydoc_show_class_members = False\n"
        'suppress_warnings = ["myst.xref_missing"]\n',  # links to the other pages
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(source), str(tmp_path / "html")],
        check=True,
        capture_output=True,
    )
    html = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'id="([^"]+)"', html))
    for cls in estimators().values():
        anchor = doc_link(cls).rpartition("#")[2]
        assert anchor in ids, f"{cls.__name__}: no id={anchor!r} in the built API page"


# -- benchmark figures ---------------------------------------------------------------

# A results file, cited as a link, a path in backticks or an HTML comment.
CITATION = re.compile(r"benchmarks/results/([\w.*-]+?)\.md")
# A figure: a decimal (0.606, 3.70), an integer with thousands separators (1,113) or
# of three digits or more (958). Not part of a version or a dotted name (3.10.1,
# v0.14), a parameter value after = < > ~ (step=0.1, >=0.12), or a path; counts under
# 100 (5 folds, 24 actors) are not figures.
FIGURE = re.compile(
    r"(?<![\w.=<>~/^-])(?:\d+(?:,\d{3})*\.\d+|\d{1,3}(?:,\d{3})+|[1-9]\d{2,})(?![\w,]*\.?\d)"
)
METRICS = {
    "macro-f1": "macro-f1",
    "macro f1": "macro-f1",
    "weighted-f1": "weighted-f1",
    "weighted f1": "weighted-f1",
    "accuracy": "accuracy",
    "uar": "uar",
    "f1": "f1",
}
_METRIC = "|".join(sorted(map(re.escape, METRICS), key=len, reverse=True))
# A figure with its metric next to it: "macro-F1 0.606", "macro-F1 of 0.606",
# "0.876 accuracy" (bold markers allowed); "UAR from 0.537 to 0.588" and "accuracy
# 0.657 against 0.636" give both figures the metric.
LABEL_BEFORE = re.compile(
    rf"(?<![\w-])({_METRIC})\s+(?:(?:of|from|against)\s+|\**\d[\d.]*\**\s+(?:to|against|vs)\s+)?\**$",
    re.I,
)
LABEL_AFTER = re.compile(rf"^\**\s+({_METRIC})(?![\w-])", re.I)
# Any number of a results file: 1440, 1,440, 0.606, "0.99-1.07" (both), "3.70x".
RESULT_NUMBER = re.compile(r"(?<![\d.])\d+(?:,\d{3})*(?:\.\d+)?(?!\d)")
# Two figures of two metrics side by side, which must come from one row.
_PAIRED = rf"(\d\.\d+)\**\s+({_METRIC})"
PAIRS = [
    re.compile(rf"{_PAIRED},?\s+(?:and\s+)?\**{_PAIRED}", re.I),
    re.compile(rf"({_METRIC})\s+\**(\d\.\d+)\**,?\s+(?:and\s+)?({_METRIC})\s+\**(\d\.\d+)", re.I),
]
# <!-- unchecked: 0.801 (published: Luna-Jimenez et al. 2021) --> exempts those figures
# of the paragraph: figures that are not benchmark results (a published score, an
# earlier run, a derived difference), each with its reason.
UNCHECKED = re.compile(r"<!--\s*unchecked:(.*?)-->", re.S)


def _number(text):
    return text.replace(",", "")


def _label(text, start, end):
    """The metric written right before or after text[start:end], or None."""
    before = LABEL_BEFORE.search(text[max(0, start - 40) : start])
    if before:
        return METRICS[before.group(1).lower()]
    after = LABEL_AFTER.search(text[end : end + 40])
    return METRICS[after.group(1).lower()] if after else None


def _plain(text):
    """The text without inline code, link targets and HTML comments (same length)."""
    blank = lambda m: " " * len(m.group(0))  # noqa: E731
    text = re.sub(r"<!--.*?-->", blank, text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", blank, text)
    return re.sub(r"\]\([^)\s]*\)", lambda m: "]" + " " * (len(m.group(0)) - 1), text)


def _cells(line):
    """The cells of a markdown table row, without the outer pipes."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _is_separator(line):
    return "-" in line and set(line.strip()) <= set("|-: ")


def _is_table(lines):
    return len(lines) >= 2 and lines[0].lstrip().startswith("|") and _is_separator(lines[1])


class Results:
    """A results file: each figure, the lines it is on, and the metrics labelling it."""

    def __init__(self, name):
        self.name = name
        self.path = RESULTS / f"{name}.md"
        self.text = self.path.read_text(encoding="utf-8") if self.path.is_file() else None
        self.lines = {}  # figure -> set of line numbers
        self.labels = {}  # figure -> set of metrics
        if self.text is None:
            return
        header = None
        lines = self.text.splitlines()
        for k, line in enumerate(lines):
            if line.lstrip().startswith("|") and k + 1 < len(lines) and _is_separator(lines[k + 1]):
                header = [c.lower() for c in _cells(line)]
                continue
            if not line.lstrip().startswith("|"):
                header = None
            cells = _cells(line) if header else [line]
            for j, cell in enumerate(cells):
                for match in RESULT_NUMBER.finditer(cell):
                    figure = _number(match.group(0))
                    self.lines.setdefault(figure, set()).add(k)
                    labels = self.labels.setdefault(figure, set())
                    label = _label(cell, match.start(), match.end())
                    if label:
                        labels.add(label)
                    if header and j < len(header):
                        labels |= {METRICS[m.lower()] for m in re.findall(_METRIC, header[j], re.I)}

    def has(self, figure):
        return _number(figure) in self.lines

    def labelled(self, figure, label):
        """Whether the figure is this metric here. A figure the file gives no metric
        (a cell whose column names none) can be any: the file's own notes say."""
        found = self.labels.get(_number(figure), set())
        if not found or label in found:
            return True
        # "F1" alone is a per-class or macro F1; "macro-F1" is also "F1".
        return (label == "f1" and any(f.endswith("f1") for f in found)) or (
            label == "macro-f1" and "f1" in found
        )

    def together(self, figures):
        """Whether the figures all appear on one line of the file."""
        sets = [self.lines.get(_number(f), set()) for f in figures]
        return bool(set.intersection(*sets)) if sets else True


def units(text):
    """(section heading, unit text) of a markdown page: paragraphs, list items, tables,
    headings; fenced code is left out."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    heading = ""
    for block in re.split(r"\n[ \t]*\n", text):
        current = []
        for line in block.split("\n"):
            starts = re.match(r"(#+ |[-*] |\d+\. )", line)
            if current and (starts or current[-1].startswith("#")):
                yield heading, "\n".join(current)
                current = []
            if line.startswith("#"):
                heading = line
            current.append(line)
        if current:
            yield heading, "\n".join(current)


def _cited(unit):
    """The results files a unit cites; a glob (``image*.md``) cites each file it matches."""
    names = set()
    for pattern in CITATION.findall(unit):
        names |= {p.stem for p in RESULTS.glob(f"{pattern}.md")} if "*" in pattern else {pattern}
    return names


def check_figures(path):
    """The problems of the benchmark figures of one page, as strings.

    A paragraph, list item, table or heading that cites ``benchmarks/results/NAME.md``
    (a link, a path in backticks, or ``<!-- benchmarks/results/NAME.md -->``) is checked
    against that file. One that cites none is checked against: for a table, the files
    cited earlier in its section (the sentence above it names its source); for a list
    item, the files the paragraph introducing the list cites; for a heading, the files
    its section cites. Checked, each figure must be in a cited file; the figures of one
    table cell must be on one line of it ("0.566 (0.555)": accuracy and macro-F1 of one
    row); and a figure written with its metric ("macro-F1 0.606", "0.876 accuracy", a
    table column named "macro-F1") must not be another metric there (the file labels
    its figures by their column, or the word before them). A unit that quotes a figure
    with a metric and cites no results file is a problem too: name the source. Figures
    that are not results are exempted, each with its reason, by
    ``<!-- unchecked: FIGURE FIGURE (why) -->`` (``all`` for every figure of the unit).
    Versions, parameter values (``step=0.1``), code in backticks and integers without
    thousands separators are not figures.
    """
    problems = []
    parsed = list(units(path.read_text(encoding="utf-8")))
    section_of = {}
    for heading, unit in parsed:
        section_of.setdefault(heading, set()).update(_cited(unit))
    section_cites, section, intro_cites = set(), None, set()
    for heading, unit in parsed:
        if heading != section:
            section_cites, section, intro_cites = set(), heading, set()
        own = _cited(unit)
        section_cites |= own
        plain = _plain(unit)
        lines = [line for line in plain.split("\n") if line.strip()]
        table = _is_table(lines)
        if unit.startswith("#"):
            inherited = section_of.get(unit.split("\n")[0], set())
        elif re.match(r"([-*]|\d+\.) ", unit):
            inherited = intro_cites
        else:
            inherited = section_cites if table else set()
            intro_cites = own
        cites = [Results(name) for name in sorted(own or inherited)]
        for results in cites:
            if results.text is None:
                problems.append(f"{path.name}: cites {results.path.name}, which does not exist")
        cites = [r for r in cites if r.text is not None]
        notes = UNCHECKED.findall(unit)
        if any(note.split() and note.split()[0] == "all" for note in notes):
            continue
        exempt = {_number(f) for note in notes for f in FIGURE.findall(note)}
        header = [c.lower() for c in _cells(lines[0])] if table else []
        # (figure, metric or None, the cell's figures) for each figure of the unit
        quoted = []
        if table:
            for line in lines[2:]:
                for j, cell in enumerate(_cells(line)):
                    figures = [m.group(0) for m in FIGURE.finditer(cell)]
                    column = header[j] if j < len(header) else ""
                    column_metric = METRICS.get(column.strip("* ").lower())
                    for match in FIGURE.finditer(cell):
                        label = _label(cell, match.start(), match.end()) or column_metric
                        quoted.append((match.group(0), label, figures))
        else:
            pairs = {}  # "0.876 accuracy, 0.872 macro-F1": two scores of one row
            for pattern in PAIRS:
                for match in pattern.finditer(plain):
                    figures = [g for g in match.groups() if g and g[0].isdigit()]
                    for figure in figures:
                        pairs[figure] = figures
            for match in FIGURE.finditer(plain):
                figure = match.group(0)
                label = _label(plain, match.start(), match.end())
                quoted.append((figure, label, pairs.get(figure)))
        quoted = [q for q in quoted if _number(q[0]) not in exempt]
        if not quoted:
            continue
        where = f"{path.name}, {heading.strip('# ') or 'top'}: {unit.strip()[:70]!r}"
        if not cites:
            labelled = [f for f, label, _ in quoted if label]
            if labelled:
                problems.append(
                    f"{where}: quotes {labelled} and cites no benchmarks/results file: link "
                    "the results file the figures come from (or mark a figure that is not a "
                    "result <!-- unchecked: FIGURE (why) -->)"
                )
            continue
        names = ", ".join(r.path.name for r in cites)
        for figure, label, cell in quoted:
            if not any(r.has(figure) for r in cites):
                problems.append(f"{where}: {figure} is not in {names}")
            elif label and not any(r.has(figure) and r.labelled(figure, label) for r in cites):
                problems.append(f"{where}: {figure} is not a {label} in {names}")
            elif cell and len(cell) > 1 and not any(r.together(cell) for r in cites):
                problems.append(f"{where}: {' '.join(cell)} are not on one line of {names}")
    return list(dict.fromkeys(problems))


PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_benchmark_figures_match_the_results(path):
    problems = check_figures(path)
    assert not problems, "\n".join(problems)


def test_the_figure_check_catches_a_drifted_figure(tmp_path):
    """The check fails on a figure that is in the results file but not as that metric
    (the recipe's macro-F1 0.606 written as 0.596, an accuracy of another row), on a
    figure absent from it, on two scores of two rows written as one row's, and on an
    uncited score; it passes the results' own figures and numbers that are not."""
    page = tmp_path / "page.md"
    cite = "[results](benchmarks/results/imbalance.md)"
    cases = {
        f"The recipe reaches macro-F1 0.606 ({cite}).": [],
        f"The recipe reaches macro-F1 0.596 ({cite}).": ["0.596 is not a macro-f1"],
        f"The recipe reaches macro-F1 0.607 ({cite}).": ["0.607 is not in imbalance.md"],
        f"The recipe reaches 0.606 macro-F1 ({cite}).": [],
        f"The recipe: macro-F1 0.606, accuracy 0.675 ({cite}).": [],
        f"The recipe: macro-F1 0.606, accuracy 0.678 ({cite}).": ["not on one line"],
        f"Test: 4,968 comments, 4968 rows ({cite}).": [],
        f"Test: 4,986 comments ({cite}).": ["4,986 is not in"],
        "The recipe reaches macro-F1 0.606 on GoEmotions.": ["cites no benchmarks/results"],
        "Chance is 0.125, step=0.1, Python 3.10.1, `C=0.1`.": [],
        f"{cite}\n\n| model | macro-F1 | UAR |\n|---|---|---|\n| recipe | 0.606 | 0.588 |": [],
        f"{cite}\n\n| model | macro-F1 |\n|---|---|\n| recipe | 0.588 |": [],
        f"{cite}\n\n| model | macro-F1 |\n|---|---|\n| recipe | 0.675 |": ["not a macro-f1"],
        f"{cite}\n\n| model | F1 (UAR) |\n|---|---|\n| recipe | 0.606 (0.513) |": [
            "not on one line"
        ],
        f"Published: 0.801 ({cite}). <!-- unchecked: 0.801 (Luna-Jimenez et al.) -->": [],
    }
    for text, expected in cases.items():
        page.write_text(f"# Page\n\n{text}\n", encoding="utf-8")
        problems = check_figures(page)
        assert len(problems) == len(expected), (text, problems)
        for problem, fragment in zip(problems, expected, strict=True):
            assert fragment in problem, (text, problems)
