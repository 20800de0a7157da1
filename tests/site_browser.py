"""Check a built site the way a reader meets it: in real headless Chromium.

``check_site(html_root)`` serves the folder on 127.0.0.1 from a thread, opens
every page in Debian's Chromium (``/usr/bin/chromium``, driven by Playwright
for Python; Playwright's own browser download is never used) at a 1280×800
window, and returns ``{page: [problem, ...]}`` with every problem of every
page. An empty dict means the site is clean. For each page it checks:

- no console errors, no uncaught exceptions, no failed requests, and no
  request at all to another host (everything is served locally);
- MathJax has finished, produced no error node, and shows no TeX literally
  (``\\_`` or ``\\texttt`` inside math); no raw ``$``, ``\\(``, ``\\[``,
  ``\\begin`` or other backslash-TeX is left in the text outside code;
- every image loaded and has meaningful alt text (not empty, not a file
  path, not a generic word such as "png" or "output");
- no figure, image, table, slider or display equation reaches past the
  content column, no table or equation wrapper scrolls or clips
  horizontally (tables must wrap), and no figure is shrunk below
  ``MIN_SCALE`` of the size it was drawn at (its text would be unreadable);
- quiz answers (sphinx-exercise solutions) are hidden until their toggle is
  clicked, and shown after;
- every internal link resolves: the file exists and a ``#fragment`` names an
  element of the target page;
- on exercise pages (``chapters/exercises/*/*.html``) the download menu's
  ``.ipynb`` item serves the student notebook: stubs that raise
  ``NotImplementedError``, no solution or hidden test, and the same cells as
  the committed copy in ``chapters/exercises``;
- every demo slider (``.ck-slider``, from ``coursekit/demos/slider.py``)
  moves: pressing an arrow key on each range input changes the frame and
  the image; every chapter page (``chapters/NN_*.html``) has one.

A full-page screenshot of each page (as a reader first sees it, answers
hidden) is saved to ``screenshots`` when given, for an author to look at.

The same checker runs on the real site (tests/test_site_browser.py) and on
copies with planted errors, which shows that each check can fail.
"""

from __future__ import annotations

import functools
import html as htmllib
import http.server
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = "/usr/bin/chromium"
# Needed as root on this machine; the network flags keep Chromium from phoning home
# (which would show up as refused requests).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WINDOW = {"width": 1280, "height": 800}

# At a 1280 px window the article column is 688 px wide and a figure (8 px padding) shows
# its image at most 672 px wide. Measured: a figure drawn 8 in wide at dpi 100 (800-811 px)
# is shown at 0.83-0.84 of its size, matplotlib's 10 pt text then at about 8.7 pt; the old
# 12-15 in figures were shown at 0.46-0.58, their legends 5-6 px high. 0.8 lets a figure
# be drawn up to about 8.4 in wide and no wider.
MIN_SCALE = 0.8
# A pixel of slack for sub-pixel layout; a clipped box may hide up to 3 px (the italic
# overhang of a glyph pokes 1-2 px out of MathJax's inline boxes, which clip).
SLACK = 1.0
CLIP_SLACK = 3

CHAPTER_PAGE = re.compile(r"^chapters/\d\d_[^/]+\.html$")
EXERCISE_PAGE = re.compile(r"^chapters/exercises/[^/]+/[^/]+\.html$")

# TeX that should have been typeset: a dollar, \( \) \[ \], \begin{...}, \command, \_ and friends.
RAW_TEX = re.compile(r"\$|\\[()\[\]]|\\[A-Za-z]+|\\[_{}%&#^~]")
GENERIC_ALT = {"png", "jpg", "jpeg", "svg", "gif", "webp", "image", "img", "images", "output", "outputs",
               "figure", "fig", "plot", "graph", "chart", "picture", "photo", "untitled", "alt",
               "screenshot", "cell", "result", "display", "data", "the", "a", "an", "of"}


def pages_of(root: Path) -> list[str]:
    """Every HTML page of a built site, relative to ``root`` (theme folders like _static excluded)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(root).parts[:-1]))


def alt_problem(alt: str | None) -> str | None:
    """Why ``alt`` is not a useful description of an image, or None if it is."""
    text = (alt or "").strip()
    if not text:
        return "has no alt text"
    if (re.search(r"\.(png|jpe?g|svg|gif|webp)\b", text, re.I) or re.match(r"^(https?:|data:|\.{0,2}/|_images)", text)
            or ("/" in text and " " not in text)):
        return f"has a file path as alt text ({text[:60]!r})"
    words = re.findall(r"[a-z]+", text.lower())
    if len(text) < 10 or all(w in GENERIC_ALT for w in words):
        return f"has generic alt text ({text!r})"
    return None


def _short(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _redirect(path: Path) -> str | None:
    """The target of a page that only forwards the reader (meta refresh), else None."""
    m = re.search(r'<meta[^>]+http-equiv="refresh"[^>]+content="\d+;\s*url=([^"]+)"', path.read_text(errors="replace"), re.I)
    return htmllib.unescape(m.group(1)) if m else None


# ---------------------------------------------------------------- serving

class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        # Chromium asks every host for /favicon.ico on its own; the site never requests it.
        if self.path.split("?")[0] == "/favicon.ico" and not (Path(self.directory) / "favicon.ico").exists():
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port) from a thread; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ---------------------------------------------------------------- in-page scripts

# Resolves when MathJax has typeset the page (or at once when the page loads no MathJax).
_MATHJAX_DONE = """async () => {
  const mj = window.MathJax;
  if (!mj || !document.querySelector('script[src*="mathjax"]')) return 'none';
  if (!mj.startup || !mj.startup.promise) return 'MathJax did not start';
  try { await mj.startup.promise; return 'ok'; } catch (e) { return 'MathJax failed: ' + e; }
}"""

_IMAGES_LOADED = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
      i.addEventListener('load', r); i.addEventListener('error', r); setTimeout(r, 10000); })));
}"""

# Math that MathJax typeset wrongly: error nodes, and text boxes that show a backslash (TeX shown literally).
_MATH_PROBLEMS = """() => {
  const out = [];
  document.querySelectorAll('mjx-merror, [data-mjx-error]').forEach(e =>
      out.push('MathJax error: ' + (e.getAttribute('data-mjx-error') || e.textContent)));
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.document && mj.startup.toMML) {
    for (const item of mj.startup.document.math) {
      let mml = '';
      try { mml = mj.startup.toMML(item.root); } catch (e) { continue; }
      if (/<merror/.test(mml)) out.push('MathJax error in: ' + item.math);
      for (const m of mml.matchAll(/<mtext[^>]*>([^<]*)<\\/mtext>/g)) {
        const t = m[1].replace(/&#x5C;|&#92;/gi, '\\\\');
        if (t.includes('\\\\')) out.push('math shows TeX literally: "' + t + '" in ' + item.math);
      }
    }
  }
  return out;
}"""

# Visible text outside code and typeset math, one entry per text node that looks like raw TeX.
_TEXT_NODES = """() => {
  const skip = 'script, style, noscript, template, textarea, pre, code, kbd, samp, mjx-container, .highlight, .MathJax';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest(skip)) continue;
    const t = n.textContent;
    if (/[$\\\\]/.test(t)) out.push(t);
  }
  return out;
}"""

_IMAGES = """() => [...document.images].map((i, k) => ({
  k, src: i.currentSrc || i.src, alt: i.getAttribute('alt'), complete: i.complete,
  naturalWidth: i.naturalWidth, width: i.getBoundingClientRect().width,
  inArticle: !!i.closest('article'), slider: !!i.closest('.ck-slider')}))"""

_SOLUTIONS = """() => [...document.querySelectorAll('.solution')].map((s, k) => {
  const title = s.querySelector(':scope > .admonition-title');
  const body = [...s.children].filter(c => !c.classList.contains('admonition-title'));
  const shown = body.some(c => { const r = c.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(c).visibility !== 'hidden'; });
  return {k, id: s.id, title: title ? title.textContent.trim() : '', shown,
          toggle: !!s.querySelector('.toggle-button'), hasBody: body.length > 0};
})"""

# Layout at the current window: things past the content column, wrappers that scroll or
# clip sideways, and figures shrunk below MIN_SCALE of their drawn size.
_LAYOUT = """([minScale, slack, clipSlack]) => {
  // MathJax's hidden copy of each formula for screen readers is wider than the formula and
  // makes every clipping box look overflowed; it is never seen, so measure without it.
  const hide = document.createElement('style');
  hide.textContent = 'mjx-assistive-mml { display: none !important; }';
  document.head.appendChild(hide);
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const ar = article.getBoundingClientRect(), cs = getComputedStyle(article);
  const left = ar.left + parseFloat(cs.paddingLeft), right = ar.right - parseFloat(cs.paddingRight);
  const visible = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const describe = e => {
    const img = e.tagName === 'IMG' ? e : e.querySelector('img');
    if (img) return 'image "' + (img.getAttribute('alt') || img.getAttribute('src') || '').slice(0, 70) + '"';
    const table = e.tagName === 'TABLE' ? e : (e.closest('table') || e.querySelector('table'));
    if (table) { const head = table.querySelector('tr');
                 return 'table "' + (head ? [...head.children].map(c => c.textContent.trim()).join(' | ') : '').slice(0, 70) + '"'; }
    const math = e.closest('mjx-container, .math') || e.querySelector('mjx-container');
    if (math) { const mml = math.querySelector('mjx-assistive-mml');
                return 'display math "' + (mml ? mml.textContent : math.textContent).trim().slice(0, 70) + '"'; }
    return e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '');
  };
  const out = [];
  const wide = [];
  const candidates = article.querySelectorAll(
      'img, figure, table, .ck-slider, mjx-container[display="true"], div.math, .cell_output');
  for (const e of candidates) {
    if (!visible(e) || e.closest('pre, .highlight, .cell_input')) continue;
    const r = e.getBoundingClientRect();
    if (r.right > right + slack || r.left < left - slack) wide.push(e);
  }
  // Report the innermost element that is too wide, not each of its containers.
  for (const e of wide) {
    if (wide.some(o => o !== e && e.contains(o))) continue;
    const r = e.getBoundingClientRect();
    out.push(describe(e) + ' is wider than the content column (' + Math.round(r.width) + ' px, spans ' +
             Math.round(r.left) + '-' + Math.round(r.right) + ' px; the column is ' + Math.round(left) + '-' + Math.round(right) + ' px)');
  }
  for (const e of [article, ...article.querySelectorAll('*')]) {
    if (!visible(e) || e.closest('pre, .highlight, .cell_input, code')) continue;
    // Inside typeset math only the display container counts (MathJax's own boxes clip by design).
    if (e.closest('mjx-container') && !(e.tagName === 'MJX-CONTAINER' && e.getAttribute('display') === 'true')) continue;
    const ox = getComputedStyle(e).overflowX;
    if (!['auto', 'scroll', 'hidden', 'clip'].includes(ox) || e.scrollWidth <= e.clientWidth + clipSlack) continue;
    if (wide.some(o => e.contains(o))) continue;  // already reported as too wide
    if (!e.querySelector('table, img, mjx-container, figure, .ck-slider') && !e.closest('table, .math, mjx-container')) continue;
    out.push(describe(e) + (ox === 'hidden' || ox === 'clip' ? ' is clipped' : ' scrolls sideways') +
             ' (its content is ' + e.scrollWidth + ' px wide in a ' + e.clientWidth + ' px box): it must wrap or be narrower');
  }
  for (const img of article.querySelectorAll('img')) {
    if (!visible(img) || !img.naturalWidth || wide.includes(img)) continue;
    const w = img.getBoundingClientRect().width, scale = w / img.naturalWidth;
    if (scale < minScale)
      out.push(describe(img) + ' is shrunk to ' + Math.round(100 * scale) + '% of its drawn width (' + img.naturalWidth +
               ' px drawn, ' + Math.round(w) + ' px shown): its text is too small to read; draw it at most 8 in wide at dpi 100');
  }
  hide.remove();
  return out;
}"""

_SLIDERS = """() => [...document.querySelectorAll('.ck-slider')].map((s, k) => ({
  k, id: s.id, inputs: s.querySelectorAll('input[type=range]').length}))"""

_SLIDER_STATE = """([k, j]) => {
  const s = document.querySelectorAll('.ck-slider')[k];
  const input = s.querySelectorAll('input[type=range]')[j];
  const img = s.querySelector('img');
  return {frame: s.getAttribute('data-frame'), src: img ? img.src : '', value: input.value, max: input.max,
          label: input.getAttribute('aria-label') || input.getAttribute('data-param') || String(j),
          loaded: img ? img.complete && img.naturalWidth > 0 : false};
}"""


# ---------------------------------------------------------------- the checker

class SiteChecker:
    """One Chromium for many pages. Use as a context manager; ``check(root, pages)`` per site."""

    def __init__(self, *, chromium: str = CHROMIUM):
        self.chromium = chromium

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        # Playwright gives each launch a fresh user-data dir.
        self._browser = self._pw.chromium.launch(executable_path=self.chromium, headless=True, args=CHROMIUM_ARGS)
        return self

    def __exit__(self, *exc):
        self._browser.close()
        self._pw.stop()

    def check(self, root: Path, pages: Iterable[str] | None = None, *, screenshots: Path | None = None,
              source_root: Path | None = None) -> dict[str, list[str]]:
        """Problems of ``pages`` (default: every page) of the site built in ``root``.

        ``source_root`` is the checkout whose ``chapters/exercises`` holds the committed
        student notebooks (default: the repository this file is in).
        """
        root = Path(root)
        source_root = Path(source_root) if source_root else Path(__file__).resolve().parent.parent
        pages = list(pages) if pages is not None else pages_of(root)
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
        problems: dict[str, list[str]] = {}
        ids_cache: dict[Path, set[str]] = {}
        with serve(root) as base:
            for page in pages:
                redirect = _redirect(root / page)
                if redirect is not None:  # a page that only forwards (index.html): its target must exist
                    target = (root / page).parent / unquote(urlsplit(redirect).path)
                    found = [] if target.is_file() else [f"redirects to a missing page {redirect!r}"]
                else:
                    try:
                        found = self._check_page(root, base, page, screenshots, source_root, ids_cache)
                    except Exception as exc:  # noqa: BLE001 - reported, and the other pages still get checked
                        found = [f"the browser check itself failed: {type(exc).__name__}: {_short(str(exc), 300)}"]
                if found:
                    problems[page] = found
        return problems

    # -- one page

    def _check_page(self, root, base, page, screenshots, source_root, ids_cache) -> list[str]:
        found: list[str] = []
        events: list[str] = []
        host = urlsplit(base).netloc
        context = self._browser.new_context(viewport=WINDOW, service_workers="block")

        def foreign(route):
            events.append(f"request to another host: {route.request.url[:120]}")
            route.abort()

        context.route(lambda url: urlsplit(url).scheme in ("http", "https", "ws", "wss")
                      and urlsplit(url).netloc != host, foreign)
        tab = context.new_page()
        tab.on("console", lambda m: m.type == "error" and events.append(
            f"console error: {_short(m.text, 160)} ({(m.location or {}).get('url', '')[len(base):] or 'page'})"))
        tab.on("pageerror", lambda e: events.append(f"uncaught exception: {_short(str(e), 160)}"))
        tab.on("requestfailed", lambda r: urlsplit(r.url).netloc == host and events.append(
            f"request failed: {r.url[len(base):]} ({r.failure})"))
        tab.on("response", lambda r: r.status >= 400 and events.append(
            f"request failed: {r.url[len(base):] if r.url.startswith(base) else r.url} (HTTP {r.status})"))
        try:
            response = tab.goto(base + page, wait_until="load", timeout=60_000)
            if response is None or not response.ok:
                return [f"page does not load (HTTP {response.status if response else '?'})"]
            state = tab.evaluate(_MATHJAX_DONE)
            if state not in ("ok", "none"):
                found.append(state)
            tab.evaluate(_IMAGES_LOADED)
            tab.evaluate("document.fonts.ready.then(() => true)")
            if screenshots is not None:
                tab.screenshot(path=str(screenshots / (page.replace("/", "__").removesuffix(".html") + ".png")),
                               full_page=True)
            found += tab.evaluate(_MATH_PROBLEMS)
            found += [f'raw TeX in the text: "{_short(t)}"' for t in tab.evaluate(_TEXT_NODES) if RAW_TEX.search(t)]
            found += self._images(tab)
            found += self._quiz(tab)
            found += tab.evaluate(_LAYOUT, [MIN_SCALE, SLACK, CLIP_SLACK])
            found += self._sliders(tab, page)
            found += self._links(tab, root, base, page, ids_cache)
            if EXERCISE_PAGE.match(page):
                found += self._download(tab, page, source_root)
            tab.wait_for_timeout(100)  # let late console messages arrive
        finally:
            context.close()
        # Events first (they often explain the rest), each once.
        return list(dict.fromkeys(events)) + found

    def _images(self, tab) -> list[str]:
        out = []
        for img in tab.evaluate(_IMAGES):
            inline = img["src"].startswith("data:")
            name = _short(img["alt"] if inline and img["alt"] else img["src"].rsplit("/", 1)[-1], 70)
            if not img["complete"] or not img["naturalWidth"]:
                out.append(f"image {name!r} did not load" + ("" if inline else f" ({img['src'][:100]})"))
            why = alt_problem(img["alt"])
            if why:
                out.append(f"image {name!r} {why}")
        return out

    def _quiz(self, tab) -> list[str]:
        out = []
        for sol in tab.evaluate(_SOLUTIONS):
            name = f"quiz answer {sol['k'] + 1} ({_short(sol['title'], 40)!r})"
            if not sol["hasBody"]:
                out.append(f"{name} is empty")
                continue
            if sol["shown"]:
                out.append(f"{name} is visible before its toggle is clicked")
                continue
            if not sol["toggle"]:
                out.append(f"{name} is hidden and has no toggle to show it")
                continue
            title = tab.locator(".solution").nth(sol["k"]).locator(":scope > .admonition-title")
            title.scroll_into_view_if_needed()
            title.click()
            tab.wait_for_timeout(50)
            after = tab.evaluate(_SOLUTIONS)[sol["k"]]
            if not after["shown"]:
                out.append(f"{name} stays hidden after its toggle is clicked")
        return out

    def _sliders(self, tab, page) -> list[str]:
        out = []
        sliders = tab.evaluate(_SLIDERS)
        if CHAPTER_PAGE.match(page) and not sliders:
            out.append("chapter page has no interactive demo (.ck-slider)")
        for s in sliders:
            name = f"slider demo {s['k'] + 1}"
            if not s["inputs"]:
                out.append(f"{name} has no range input")
                continue
            for j in range(s["inputs"]):
                before = tab.evaluate(_SLIDER_STATE, [s["k"], j])
                if before["frame"] is None:
                    out.append(f"{name}: its script did not run (no data-frame)")
                    break
                key = "ArrowLeft" if before["value"] == before["max"] else "ArrowRight"
                handle = tab.locator(".ck-slider").nth(s["k"]).locator("input[type=range]").nth(j)
                handle.scroll_into_view_if_needed()
                handle.focus()
                handle.press(key)
                tab.wait_for_function(
                    """([k]) => { const i = document.querySelectorAll('.ck-slider')[k].querySelector('img');
                                  return !i || i.complete; }""", arg=[s["k"]], timeout=10_000)
                after = tab.evaluate(_SLIDER_STATE, [s["k"], j])
                label = before["label"]
                if after["value"] == before["value"]:
                    out.append(f"{name}: {key} does not move its {label!r} slider")
                elif after["frame"] == before["frame"] or after["src"] == before["src"]:
                    out.append(f"{name}: moving {label!r} does not change the figure "
                               f"(frame {before['frame']} -> {after['frame']}, image "
                               f"{'changed' if after['src'] != before['src'] else 'unchanged'})")
                elif not after["loaded"]:
                    out.append(f"{name}: the figure for the new {label!r} does not load")
        return out

    def _links(self, tab, root: Path, base: str, page: str, ids_cache) -> list[str]:
        out = []
        here_ids = set(tab.evaluate("() => [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.name)"))
        links = tab.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href])")
        for raw, absolute in dict.fromkeys(map(tuple, links)):
            parts = urlsplit(absolute)
            if parts.scheme not in ("http", "https") or not absolute.startswith(base):
                continue  # mailto:, javascript:, other hosts (never fetched)
            rel = unquote(parts.path)[len(urlsplit(base).path):]
            target = root / rel
            if rel == "" or rel.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                out.append(f"link {raw!r} leads to a missing page ({target.relative_to(root).as_posix()})")
                continue
            frag = unquote(parts.fragment)
            if not frag or target.suffix != ".html":
                continue
            if target.resolve() == (root / page).resolve():
                ids = here_ids | self._ids(target, ids_cache)
            else:
                ids = self._ids(target, ids_cache)
            if frag not in ids:
                out.append(f"link {raw!r}: no element with id {frag!r} on {target.relative_to(root).as_posix()}")
        return out

    @staticmethod
    def _ids(path: Path, cache) -> set[str]:
        if path not in cache:
            text = path.read_text(errors="replace")
            cache[path] = {htmllib.unescape(m) for m in re.findall(r'\s(?:id|name)="([^"]*)"', text)}
        return cache[path]

    def _download(self, tab, page: str, source_root: Path) -> list[str]:
        menu = tab.locator(".dropdown-download-buttons")
        item = menu.locator('a[href$=".ipynb"]')
        if not menu.count() or not item.count():
            return ["exercise page has no .ipynb in its download menu"]
        menu.locator(".dropdown-toggle").first.click()
        if not item.first.is_visible():
            return ["the download menu's .ipynb item does not show when the menu is opened"]
        href = item.first.evaluate("a => a.href")
        got = tab.evaluate("""async (u) => { const r = await fetch(u);
                                              return {status: r.status, text: await r.text()}; }""", href)
        if got["status"] != 200:
            return [f"the download button's notebook does not load (HTTP {got['status']})"]
        import nbformat

        text = got["text"]
        try:
            served = nbformat.reads(text, as_version=4)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the finding
            return [f"the download button serves no notebook ({_short(str(exc))})"]
        why = []
        secrets = [s for s in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS") if s in text]
        if secrets:
            why.append("contains " + ", ".join(map(repr, secrets)))
        if "raise NotImplementedError" not in "\n".join(c.source for c in served.cells):
            why.append("has no stubs ('raise NotImplementedError')")
        committed = source_root / Path(page).with_suffix(".ipynb")
        if not committed.is_file():
            why.append(f"there is no committed {committed.relative_to(source_root).as_posix()} to compare with")
        else:
            want = nbformat.read(committed, as_version=4)

            def cells(nb):
                return [(c.cell_type, c.source, json.dumps(c.metadata.get("nbgrader"), sort_keys=True)) for c in nb.cells]

            if cells(served) != cells(want):
                why.append(f"its cells differ from the committed {committed.relative_to(source_root).as_posix()}")
        # One broken download is one problem, whatever the number of reasons.
        return [f"the downloaded notebook is not the student copy: {'; '.join(why)}"] if why else []


def check_site(root: Path, pages: Iterable[str] | None = None, **kwargs) -> dict[str, list[str]]:
    """``SiteChecker().check(...)`` with a browser of its own."""
    with SiteChecker() as checker:
        return checker.check(root, pages, **kwargs)


def format_problems(problems: dict[str, list[str]]) -> str:
    """All problems, page by page, for one assertion message."""
    n = sum(map(len, problems.values()))
    lines = [f"{n} problem(s) on {len(problems)} page(s) at a {WINDOW['width']}x{WINDOW['height']} window:"]
    for page, found in problems.items():
        lines.append(f"\n{page}:")
        lines += [f"  - {p}" for p in found]
    return "\n".join(lines)


if __name__ == "__main__":  # python tests/site_browser.py _build/html [page ...]
    import sys

    t0 = time.monotonic()
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    result = check_site(site, sys.argv[2:] or None, screenshots=site.parent / "screenshots")
    print(format_problems(result) if result else "no problems")
    print(f"{time.monotonic() - t0:.1f} s")
