/* The widget manager typesets widget labels through the MathJax 2 API
 * (MathJax.Hub.Queue). This site runs MathJax 3, so forward those calls to
 * MathJax 3's typesetPromise instead of letting them throw. Loaded with `defer`
 * after MathJax, only on pages that embed widgets. */
(function () {
  "use strict";
  var mj = window.MathJax;
  if (!mj || mj.Hub) {
    return;
  }
  function typeset(element) {
    var ready = (mj.startup && mj.startup.promise) || Promise.resolve();
    return ready.then(function () {
      return window.MathJax.typesetPromise([element]);
    });
  }
  mj.Hub = {
    Queue: function () {
      Array.prototype.forEach.call(arguments, function (job) {
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
          typeset(job[2]);
        }
      });
    },
  };
})();
