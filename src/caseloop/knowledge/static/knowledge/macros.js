// "Use": put a macro's rendered text into the case page's reply box, and have the reply
// carry which prepared response it holds, so sending it counts as a use of that macro.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".kb-macro-insert") : null;
    if (!button) return;
    var box = document.getElementById("reply-text");
    if (!box) return;
    var text = button.getAttribute("data-text") || "";
    box.value = box.value ? box.value.replace(/\s*$/, "") + "\n\n" + text : text;
    var form = box.form;
    var id = button.getAttribute("data-macro");
    if (form && id && !form.querySelector('input[name="macro"][value="' + id + '"]')) {
      var carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = "macro";
      carried.value = id;
      form.appendChild(carried);
    }
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });
})();
