"""Interactive demos, one module per chapter.

Each module offers ``static_figure()`` (a matplotlib Figure, drawn on the
website) and ``interactive()`` (an ipywidgets widget for Jupyter). The site
cannot run widgets, so it shows the static figure and tells readers how to
open the live version.
"""


def png(fig, dpi: int = 100):
    """Show a Figure made without pyplot as a PNG (what the website displays for a demo)."""
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return Image(buf.getvalue())
