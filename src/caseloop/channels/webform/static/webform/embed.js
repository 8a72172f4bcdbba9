/* Caseloop contact form, embedded with one tag:
 *   <script src="https://desk.example/static/webform/embed.js" data-form="default" async></script>
 * Inserts an iframe with the form right after the tag and keeps it as tall as its content.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src).origin;
  var key = script.getAttribute("data-form") || "default";
  var frame = document.createElement("iframe");
  frame.src = origin + "/channels/form/" + encodeURIComponent(key) + "/embed/";
  frame.title = script.getAttribute("data-title") || "Contact form";
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.minHeight = "480px";
  frame.setAttribute("loading", "lazy");
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.caseloopForm && typeof data.height === "number") {
      frame.style.height = Math.max(200, Math.ceil(data.height)) + "px";
    }
  });
})();
