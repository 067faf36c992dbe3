"""Sphinx configuration.

Build: `pip install -e ".[docs]"`, then `sphinx-build -W -b html docs docs/_build`.

The build runs every example of ``examples/`` (sphinx-gallery, offline, a few minutes on
2 cores) and mirrors ``benchmarks/results/*.md`` into ``docs/benchmarks/results/`` so
that the benchmark tables have one source. ``-W`` turns warnings into errors: the build
is clean offline too (see the intersphinx settings below).
"""

import zlib
from pathlib import Path

import skemotion

project = "skemotion"
author = "The skemotion developers"
copyright = "the skemotion developers"
release = skemotion.__version__
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# Markdown for the pages; reStructuredText for what sphinx-gallery generates.
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
numpydoc_show_class_members = False
myst_heading_anchors = 3

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# -- intersphinx, online and offline ------------------------------------------------
# Each project lists two inventories, tried in order: the project's own objects.inv on
# the web (None), then an empty local inventory. When the web cannot be reached (the
# project's machines have no internet) Sphinx 9 logs the failed download at INFO level
# ("encountered some issues with some of the inventories, but they had working
# alternatives") and uses the empty one: links to Python and scikit-learn then render as
# plain text and the build stays clean under -W. Sphinx warns (and -W fails) only when
# every inventory of a project fails, and that warning has no type that
# suppress_warnings could select, hence the local fallback rather than a suppression.
# intersphinx_timeout keeps a slow network from stalling the build.
EMPTY_INVENTORY = HERE / "_build" / ".empty-objects.inv"
EMPTY_INVENTORY.parent.mkdir(parents=True, exist_ok=True)
EMPTY_INVENTORY.write_bytes(
    b"# Sphinx inventory version 2\n# Project: none\n# Version: \n"
    b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(b"")
)
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", (None, str(EMPTY_INVENTORY))),
    "sklearn": ("https://scikit-learn.org/stable", (None, str(EMPTY_INVENTORY))),
}
intersphinx_timeout = 10


def _sklearn_reference_as_text(app, env, node, contnode):
    """Render a reference of an inherited scikit-learn docstring as its text.

    ``set_output`` and the ``set_*_request`` methods come with scikit-learn's own
    docstrings, whose ``:ref:`` and ``:term:`` targets (``metadata_routing``,
    ``meta-estimator``, ...) live in scikit-learn's documentation. Online, intersphinx
    resolves them to scikit-learn's pages (this handler runs after it); offline they are
    rendered as their text instead of warning about a label this project cannot have.
    References from skemotion's own docstrings and pages still warn when broken.
    """
    if "docstring of sklearn." in (node.source or ""):
        return contnode
    return None


# -- benchmark tables: one source --------------------------------------------------
# docs/benchmarks/results/NAME.md includes benchmarks/results/NAME.md, for every results
# file, under the same relative path as in the repository, so that the results' links
# to each other (index.md -> audio.md) work unchanged and a page links a table as
# [results](benchmarks/results/NAME.md). The folder is generated here on every build
# (and ignored by git).
RESULTS = ROOT / "benchmarks" / "results"
MIRROR = HERE / "benchmarks" / "results"


def _mirror_results():
    MIRROR.mkdir(parents=True, exist_ok=True)
    wanted = {f"{path.stem}.md" for path in RESULTS.glob("*.md")}
    for stale in MIRROR.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    for name in sorted(wanted):
        text = f"```{{include}} ../../../benchmarks/results/{name}\n:relative-images:\n```\n"
        page = MIRROR / name
        if not page.is_file() or page.read_text(encoding="utf-8") != text:
            page.write_text(text, encoding="utf-8")  # unchanged pages keep their mtime


_mirror_results()

# -- the gallery -------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run every example (not only plot_*.py), at every build; a failing example fails
    # the build.
    "filename_pattern": r"\.py$",
    "plot_gallery": "True",
    "abort_on_example_error": True,
    # Print the time of every example ("computation time summary") in the build log.
    "min_reported_time": 0,
    "write_computation_times": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "doc_module": ("skemotion",),
    "reference_url": {"skemotion": None},
}


def setup(app):
    app.connect("missing-reference", _sklearn_reference_as_text, priority=900)
