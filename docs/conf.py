"""Sphinx configuration: `pip install -e ".[docs]"`, then `sphinx-build docs docs/_build`."""

import skemotion

project = "skemotion"
author = "The skemotion developers"
release = skemotion.__version__
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.intersphinx", "numpydoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
numpydoc_show_class_members = False
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
