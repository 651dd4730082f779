/* The course site's own behaviour, on every page (loaded with defer).
 *
 * 1. The colour-mode button switches light <-> dark in one click (the theme cycles
 *    light -> auto -> dark, so on a light system its first click changed nothing).
 * 2. Boxes that scroll sideways (display equations, code, outputs) are keyboard tab
 *    stops and show a cue; boxes that do not scroll are not tab stops.
 * 3. Widget images get the text form stored with them as alt text, and slider handles
 *    get the name of their slider (the widget manager sets neither).
 * 4. Figures wider than a phone screen keep a legible size and scroll in their box.
 */
(function () {
  "use strict";
  var root = document.documentElement;

  // ------------------------------------------------------------------ 1. colour mode
  function setMode(mode) {
    root.dataset.mode = mode;
    root.dataset.theme = mode;
    try {
      localStorage.setItem("mode", mode);
      localStorage.setItem("theme", mode);
    } catch (e) {
      /* storage may be disabled; the page still switches */
    }
    document.querySelectorAll(".dropdown-menu").forEach(function (menu) {
      menu.classList.toggle("dropdown-menu-dark", mode === "dark");
    });
    syncSwitch();
  }

  function syncSwitch() {
    var dark = root.dataset.theme === "dark";
    document.querySelectorAll(".theme-switch-button").forEach(function (button) {
      button.setAttribute("aria-pressed", dark ? "true" : "false");
      // the icon shown is the mode a click switches to
      button.dataset.next = dark ? "light" : "dark";
    });
  }

  document.addEventListener(
    "click",
    function (event) {
      var button = event.target.closest && event.target.closest(".theme-switch-button");
      if (!button) {
        return;
      }
      event.preventDefault();
      event.stopPropagation(); // the theme's own cycling handler must not run as well
      setMode(root.dataset.theme === "dark" ? "light" : "dark");
    },
    true
  );

  // ------------------------------------------------------------------ 2. scrolling boxes
  var SCROLLERS = [
    "div.math > mjx-container",
    "pre",
    ".cell_output",
    ".cell_output > .output",
    "figure",
    ".nboutput > .output_area",
    ".pst-scrollable-table-container",
    ".table-wrapper",
    ".animation",
  ].join(", ");

  function markScrollers() {
    document.querySelectorAll(SCROLLERS).forEach(function (box) {
      var style = getComputedStyle(box);
      var sideways = style.overflowX === "auto" || style.overflowX === "scroll";
      // 2 px of slack: rounding of line heights must not turn a box into a tab stop
      var scrolls = sideways && box.scrollWidth > box.clientWidth + 2;
      box.classList.toggle("is-scrollable", scrolls);
      if (scrolls) {
        box.tabIndex = 0;
        if (!box.hasAttribute("aria-label") && !box.matches("pre, mjx-container")) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", "scrollable output");
        }
      } else if (box.tabIndex === 0 || box.hasAttribute("tabindex")) {
        box.removeAttribute("tabindex");
        if (box.getAttribute("aria-label") === "scrollable output") {
          box.removeAttribute("role");
          box.removeAttribute("aria-label");
        }
      }
    });
  }

  // ------------------------------------------------------------------ 3. widget a11y
  var widgetAlt = null;

  function widgetImageTexts() {
    // base64 image -> its text/plain form, from the widget state embedded in the page
    if (widgetAlt) {
      return widgetAlt;
    }
    widgetAlt = {};
    document
      .querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]')
      .forEach(function (script) {
        var state;
        try {
          state = JSON.parse(script.textContent).state || {};
        } catch (e) {
          return;
        }
        Object.keys(state).forEach(function (id) {
          var outputs = (state[id].state || {}).outputs || [];
          outputs.forEach(function (output) {
            var data = output.data || {};
            ["image/png", "image/jpeg"].forEach(function (mime) {
              if (data[mime] && data["text/plain"]) {
                var text = [].concat(data["text/plain"]).join("");
                widgetAlt[String(data[mime]).replace(/\s/g, "").slice(0, 200)] = text;
              }
            });
          });
        });
      });
    return widgetAlt;
  }

  function labelWidgets() {
    document.querySelectorAll(".jupyter-widgets img:not([alt])").forEach(function (img) {
      var src = img.getAttribute("src") || "";
      var key = src.slice(src.indexOf(",") + 1).slice(0, 200);
      img.alt = widgetImageTexts()[key] || "figure drawn by the interactive widget";
    });
    document.querySelectorAll(".jupyter-widgets [role=slider]:not([aria-label])").forEach(function (handle) {
      var widget = handle.closest(".widget-slider, .jupyter-widgets");
      var label = widget && widget.querySelector(".widget-label");
      var text = label && (label.textContent.trim() || label.getAttribute("title"));
      handle.setAttribute("aria-label", text || "slider");
    });
  }

  // Hidden code cells (tag hide-input): sphinx-togglebutton names the toggle "Toggle hidden
  // content" while it shows "Show code cell source"; the visible words are the better name.
  function nameToggles() {
    document.querySelectorAll("details.hide > summary[aria-label]").forEach(function (summary) {
      if (summary.textContent.trim()) {
        summary.removeAttribute("aria-label");
      }
    });
  }

  // ------------------------------------------------------------------ 4. wide figures
  function markWideFigures() {
    document.querySelectorAll("article img").forEach(function (img) {
      if (!img.complete || !img.naturalWidth) {
        return;
      }
      var wide = img.naturalWidth > 560;
      img.classList.toggle("is-wide-figure", wide);
      if (wide) {
        img.style.setProperty("--book-natural-width", img.naturalWidth + "px");
      }
    });
  }

  // ------------------------------------------------------------------ wiring
  var pending = null;
  function refresh() {
    if (pending) {
      return;
    }
    pending = setTimeout(function () {
      pending = null;
      labelWidgets();
      markWideFigures();
      markScrollers();
    }, 400); // after the theme's own pass over the same boxes (debounced by 300 ms)
  }

  function start() {
    syncSwitch();
    nameToggles();
    refresh();
    var main = document.getElementById("main-content") || document.body;
    new MutationObserver(refresh).observe(main, { subtree: true, childList: true });
    window.addEventListener("resize", refresh);
    document.querySelectorAll("article img").forEach(function (img) {
      img.addEventListener("load", refresh);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // again once everything has loaded, and once MathJax has typeset the equations
  window.addEventListener("load", function () {
    refresh();
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
      window.MathJax.startup.promise.then(refresh);
    }
  });
  window.bookSite = { refresh: refresh, setMode: setMode };
})();
