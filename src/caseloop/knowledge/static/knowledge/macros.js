// "Insert into reply": put a macro's rendered text into the case page's reply box.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".kb-macro-insert") : null;
    if (!button) return;
    var box = document.getElementById("reply-text");
    if (!box) return;
    var text = button.getAttribute("data-text") || "";
    box.value = box.value ? box.value.replace(/\s*$/, "") + "\n\n" + text : text;
    box.focus();
  });
})();
