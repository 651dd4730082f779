/* Loads the Jupyter widget manager only when a reader comes near a widget.
 *
 * The manager (embed.js, about 1.9 MB) draws the widget views stored in the page. It is
 * loaded once, when the first widget view is within a screen or so of the viewport (or
 * when the page is printed, or when window.bookWidgets.load() is called), so it never
 * delays the first paint and a reader who only reads the text does not download it.
 * myst-nb includes this script only on pages that embed widget state.
 *
 * embed.js starts rendering on the window's "load" event. When it arrives after that
 * event, its "load" listener is run at once instead (see listenForLoad below).
 */
(function () {
  "use strict";
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  var here = document.currentScript ? document.currentScript.src : "";
  var base = here.slice(0, here.lastIndexOf("/") + 1);
  var loading = null;

  function listenForLoad(run) {
    var original = window.addEventListener;
    window.addEventListener = function (type, listener, options) {
      if (type === "load" && document.readyState === "complete") {
        setTimeout(listener, 0);
        return undefined;
      }
      return original.call(this, type, listener, options);
    };
    return run().finally(function () {
      window.addEventListener = original;
    });
  }

  function load() {
    if (loading) {
      return loading;
    }
    // the manager's icon fonts are served beside it
    window.__jupyter_widgets_assets_path__ = base + "html-manager/";
    loading = listenForLoad(function () {
      return new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = base + "html-manager/embed.js";
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    });
    return loading;
  }

  function watch() {
    var views = document.querySelectorAll(VIEW);
    if (!views.length) {
      return;
    }
    if (!("IntersectionObserver" in window)) {
      load();
      return;
    }
    var observer = new IntersectionObserver(
      function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) {
          observer.disconnect();
          load();
        }
      },
      { rootMargin: "150% 0px" }
    );
    views.forEach(function (script) {
      observer.observe(script.parentElement);
    });
  }

  window.bookWidgets = { load: load };
  window.addEventListener("beforeprint", load);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();
