"""A demo that moves on the website without a kernel.

The website is static: no Python runs when a reader moves a slider. So the
figure is drawn at build time for every setting of the sliders, and the page
gets the PNGs together with a few lines of JavaScript that show the one the
sliders point at. Everything is inside the page (PNG data URIs, inline
script), so it works offline and in any browser.

    from coursekit.demos.slider import figure_slider
    figure_slider(draw, {"log10_lam": [-6, -4, -2, 0]},
                  labels={"log10_lam": "log10 λ"},
                  caption="What to look at ...", alt="What the figure shows ...")

``draw(**setting)`` returns a matplotlib ``Figure`` (made without pyplot). The
grid is the product of the slider values, so keep it small (tens of frames).
In Jupyter the same object displays too; the live ipywidgets version of each
demo (``interactive()``) recomputes instead.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import uuid
from collections.abc import Callable, Mapping, Sequence

#: More frames than this make a page heavy (each PNG is tens of kB).
MAX_FRAMES = 80


def png_bytes(fig, dpi: int = 100) -> bytes:
    """A matplotlib Figure as PNG bytes (the site's frames and the Jupyter widgets' images)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


class FigureSlider:
    """Precomputed frames plus the HTML that switches between them.

    ``frames[k]`` is the PNG for ``settings[k]``, a dict of slider values; the
    last slider varies fastest. ``_repr_html_`` is what the page shows.
    """

    def __init__(self, draw: Callable, params: Mapping[str, Sequence], *, caption: str, alt: str,
                 labels: Mapping[str, str] | None = None, formats: Mapping[str, str] | None = None,
                 initial: Mapping[str, object] | None = None, dpi: int = 100):
        if not params:
            raise ValueError("figure_slider needs at least one slider")
        self.params = {name: list(values) for name, values in params.items()}
        for name, values in self.params.items():
            if len(values) < 2:
                raise ValueError(f"slider {name!r} needs at least two values, got {values}")
        n_frames = 1
        for values in self.params.values():
            n_frames *= len(values)
        if n_frames > MAX_FRAMES:
            raise ValueError(f"{n_frames} frames is too many for one page (at most {MAX_FRAMES})")
        if not caption.strip() or not alt.strip():
            raise ValueError("a figure on the site needs a caption and alt text")
        self.caption, self.alt = caption, alt
        self.labels = {name: (labels or {}).get(name, name) for name in self.params}
        formats = formats or {}
        self.shown = {name: [format(v, formats.get(name, "g")) if not isinstance(v, str) else v for v in values]
                      for name, values in self.params.items()}
        initial = dict(initial or {})
        unknown = set(initial) - set(self.params)
        if unknown:
            raise ValueError(f"initial values for unknown sliders: {sorted(unknown)}")
        self.start = {name: values.index(initial[name]) if name in initial else len(values) // 2
                      for name, values in self.params.items()}
        self.settings = [dict(zip(self.params, combo)) for combo in itertools.product(*self.params.values())]
        self.frames = []
        for setting in self.settings:
            fig = draw(**setting)
            self.frames.append(png_bytes(fig, dpi))
            fig.clf()

    def index(self, **positions: int) -> int:
        """Frame number for the given slider positions (indices into each value list)."""
        k = 0
        for name, values in self.params.items():
            k = k * len(values) + positions[name]
        return k

    def _alt_for(self, k: int) -> str:
        setting = ", ".join(f"{self.labels[n]} = {self.shown[n][self.params[n].index(v)]}"
                            for n, v in self.settings[k].items())
        return f"{self.alt} ({setting})"

    def _repr_html_(self) -> str:
        uid = "ck-slider-" + uuid.uuid4().hex[:10]
        first = self.index(**self.start)
        controls = []
        for name, values in self.params.items():
            label = html.escape(self.labels[name])
            controls.append(
                f'<label class="ck-slider-control">{label} '
                f'<input type="range" min="0" max="{len(values) - 1}" step="1" value="{self.start[name]}" '
                f'aria-label="{label}" data-param="{html.escape(name)}"> '
                f'<output>{html.escape(self.shown[name][self.start[name]])}</output></label>')
        data = {
            "frames": [base64.b64encode(f).decode("ascii") for f in self.frames],
            "alts": [self._alt_for(k) for k in range(len(self.frames))],
            "shown": list(self.shown.values()),
            "sizes": [len(v) for v in self.params.values()],
        }
        # "</" must not end the script early.
        payload = json.dumps(data).replace("</", "<\\/")
        return f"""<figure class="ck-slider" id="{uid}">
<div class="ck-slider-controls">{''.join(controls)}</div>
<img class="ck-slider-image" src="data:image/png;base64,{data['frames'][first]}" alt="{html.escape(data['alts'][first])}">
<figcaption>{self.caption}</figcaption>
</figure>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var data = {payload};
  var inputs = root.querySelectorAll("input[type=range]");
  var outputs = root.querySelectorAll("output");
  var img = root.querySelector("img");
  function show() {{
    var k = 0;
    for (var i = 0; i < inputs.length; i++) {{
      var pos = parseInt(inputs[i].value, 10);
      k = k * data.sizes[i] + pos;
      outputs[i].textContent = data.shown[i][pos];
    }}
    img.src = "data:image/png;base64," + data.frames[k];
    img.alt = data.alts[k];
    root.setAttribute("data-frame", k);
  }}
  for (var i = 0; i < inputs.length; i++) {{ inputs[i].addEventListener("input", show); }}
  root.setAttribute("data-frame", {first});
}})();
</script>
<style>
.ck-slider {{ margin: 1em 0; max-width: 100%; }}
.ck-slider-controls {{ display: flex; flex-wrap: wrap; gap: 0.5em 2em; margin-bottom: 0.5em; }}
.ck-slider-control {{ display: flex; align-items: center; gap: 0.5em; }}
.ck-slider-control input {{ width: 14em; }}
.ck-slider-image {{ max-width: 100%; height: auto; display: block; }}
.ck-slider figcaption {{ font-size: 0.9em; margin-top: 0.4em; }}
</style>"""


def figure_slider(draw: Callable, params: Mapping[str, Sequence], **kwargs) -> FigureSlider:
    """Draw ``draw(**setting)`` for every slider setting and return the slider for the page.

    ``params`` maps each keyword of ``draw`` to the values its slider visits, in
    order. Keyword options: ``caption`` and ``alt`` (required), ``labels`` (the
    text beside each slider), ``formats`` (format specs for the shown values),
    ``initial`` (the starting value of each slider; default the middle one) and
    ``dpi``.
    """
    return FigureSlider(draw, params, **kwargs)
