"""Student-facing helpers for *Regularization & Optimization for Deep Learning*.

Everything here is safe to hand to students: synthetic data, 2-D test
functions, plotting, interactive demos and the *visible* checks used in the
exercise notebooks. It never imports the instructor-side `solutions` package.
"""

__version__ = "0.1.0"
