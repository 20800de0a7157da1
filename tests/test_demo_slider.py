"""coursekit.demos.slider: the demo that moves on the static site."""

from __future__ import annotations

import html
import re

import pytest
from matplotlib.figure import Figure

from coursekit.demos.slider import MAX_FRAMES, figure_slider

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _draw(a, b):
    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([0, 1], [a, b])
    return fig


def test_one_frame_per_setting_last_slider_fastest():
    s = figure_slider(_draw, {"a": [0, 1, 2], "b": [5, 6]}, caption="c", alt="a line")
    assert [tuple(x.values()) for x in s.settings] == [(0, 5), (0, 6), (1, 5), (1, 6), (2, 5), (2, 6)]
    assert len(s.frames) == 6 and all(f.startswith(PNG_MAGIC) for f in s.frames)
    assert len(set(s.frames)) == 6
    assert s.index(a=2, b=0) == 4 and s.settings[4] == {"a": 2, "b": 5}
    assert s.start == {"a": 1, "b": 1}                       # the middle value by default


def test_html_shows_the_start_frame_and_switches_frames_in_the_page():
    s = figure_slider(_draw, {"a": [0, 1], "b": [5, 6]}, caption="Look <em>here</em>", alt='a "line" </script>',
                      labels={"a": "α"}, formats={"b": ".1f"}, initial={"a": 1, "b": 5})
    page = s._repr_html_()
    k = s.index(a=1, b=0)
    assert f'data:image/png;base64,{__import__("base64").b64encode(s.frames[k]).decode()}' in page
    assert page.count('type="range"') == 2 and 'aria-label="α"' in page
    assert "<figcaption>Look <em>here</em></figcaption>" in page
    # Alt text names the setting, and quotes in it are escaped.
    assert f'alt="{html.escape(s._alt_for(k))}"' in page and "α = 1, b = 5.0" in s._alt_for(k)
    # The alt text contains "</script>", yet only the page's own closing tag ends the script.
    assert page.count("</script>") == 1 and "<\\/script>" in page
    assert re.search(r'addEventListener\("input", show\)', page)


@pytest.mark.parametrize("params, kwargs, message", [
    ({}, {}, "at least one slider"),
    ({"a": [1]}, {}, "at least two values"),
    ({"a": list(range(MAX_FRAMES + 1))}, {}, "too many"),
    ({"a": [0, 1]}, {"caption": " "}, "caption and alt text"),
    ({"a": [0, 1]}, {"initial": {"z": 1}}, "unknown sliders"),
])
def test_bad_sliders_are_refused_with_a_reason(params, kwargs, message):
    options = {"caption": "c", "alt": "a", **kwargs}
    with pytest.raises(ValueError, match=message):
        figure_slider(lambda **kw: Figure(figsize=(1, 1)), params, **options)
