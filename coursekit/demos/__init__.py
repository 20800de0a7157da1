"""Interactive demos, one module per chapter.

Each module offers

* ``site_demo()``: a ``coursekit.demos.slider.figure_slider`` whose frames are
  drawn at build time, so the demo moves on the website without a kernel,
  offline;
* ``interactive()``: the live ipywidgets version for Jupyter, which recomputes
  the same figure as its sliders move.

Both draw with the same function of the module, so the site and Jupyter show
the same picture.
"""
