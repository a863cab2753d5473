"""Write a notebook in nbs/ (or runs/) from a jupytext percent-format script, with clean metadata.

Usage: .venv/bin/python tools/py2nb.py SRC.py nbs/NN_module.ipynb
Cell tags survive (`# %% tags=["parameters"]`); notebook metadata is reduced to the python3 kernelspec.
Then run `nbdev_export` and `nbdev_clean`.
"""
import sys
import jupytext, nbformat

src, dst = sys.argv[1], sys.argv[2]
nb = jupytext.read(src, fmt="py:percent")
nb.metadata = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}}
for c in nb.cells:
    c.metadata = {k: v for k, v in c.metadata.items() if k == "tags"}
nbformat.write(nb, dst)
