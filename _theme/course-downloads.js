// Install lines and notebook downloads that work however the site is opened: from a web server or as local
// files (file://). Added by _ext/student_downloads.py, which explains the why.
(function () {
  function ready() {
    // `pip install <the wheel's address>`, as this browser sees it (unless html_baseurl fixed it at build time).
    document.querySelectorAll(".ck-wheel-url[data-wheel]:not([data-fixed])").forEach(function (el) {
      el.textContent = new URL(el.getAttribute("data-wheel"), document.baseURI).href;
    });
    // The theme's download menu: save the notebook instead of opening its JSON in a tab.
    var embedded = document.querySelector("a.ck-notebook-download");
    document.querySelectorAll('.dropdown-download-buttons a[href$=".ipynb"]').forEach(function (a) {
      a.setAttribute("download", decodeURIComponent(a.pathname.split("/").pop()));
      a.removeAttribute("target");
      // A local file ignores `download` for another local file: hand it the copy embedded in the page.
      if (location.protocol === "file:" && embedded) a.href = embedded.href;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
