"""Interactive demos, one module per chapter.

Each module offers ``static_figure()`` (a matplotlib Figure, drawn on the
website) and ``interactive()`` (an ipywidgets widget for Jupyter). The site
cannot run widgets, so it shows the static figure and tells readers how to
open the live version.
"""
