/* Runs inside the embedded form: tells the host page its height so the iframe fits. */
(function () {
  "use strict";
  if (window.parent === window) return;
  function report() {
    var height = document.documentElement.scrollHeight;
    window.parent.postMessage({ caseloopForm: true, height: height }, "*");
  }
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
})();
