// Suggest help-centre articles while a customer types the subject of the contact form.
// "This solved my problem" records a deflection (POST with the CSRF token); no case is opened.
(function () {
  "use strict";
  var box = document.querySelector(".kb-suggest");
  if (!box) return;
  var input = document.getElementById(box.getAttribute("data-input") || "id_subject");
  if (!input) return;
  var list = box.querySelector(".kb-suggest-list");
  var thanks = box.querySelector(".kb-suggest-thanks");
  var csrf = box.querySelector("input[name=csrfmiddlewaretoken]");
  var timer = null;
  var lastQuery = "";
  var seq = 0;

  // Snippets are escaped text with <mark> tags only; rebuild them from text and <mark>
  // nodes so nothing else can reach the page even if that promise were broken.
  function snippetNode(html) {
    var out = document.createElement("span");
    var doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
    doc.body.firstChild.childNodes.forEach(function (node) {
      if (node.nodeType === 1 && node.tagName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        out.appendChild(mark);
      } else {
        out.appendChild(document.createTextNode(node.textContent));
      }
    });
    return out;
  }

  function render(results, query) {
    list.textContent = "";
    results.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = item.url + "?q=" + encodeURIComponent(query);
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = item.title;
      li.appendChild(link);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "kb-solved";
      button.textContent = window.gettext ? window.gettext("This solved my problem") : "This solved my problem";
      button.addEventListener("click", function () { deflect(item.id, query, button); });
      li.appendChild(button);
      var p = document.createElement("p");
      p.className = "snippet";
      p.appendChild(snippetNode(item.snippet_html));
      li.appendChild(p);
      list.appendChild(li);
    });
    box.hidden = results.length === 0 && thanks.hidden;
  }

  function lookup() {
    var query = input.value.trim();
    if (query === lastQuery) return;
    lastQuery = query;
    if (query.length < 3) { render([], query); return; }
    var mine = ++seq;
    fetch(box.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(query), {
      headers: { "Accept": "application/json" }, credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : { results: [] };
    }).then(function (data) {
      if (mine === seq) render(data.results || [], query);
    }).catch(function () { /* suggestions are optional; the form still works */ });
  }

  function deflect(articleId, query, button) {
    var body = new FormData();
    body.append("article", articleId);
    body.append("query", query);
    if (csrf) body.append("csrfmiddlewaretoken", csrf.value);
    button.disabled = true;
    fetch(box.getAttribute("data-deflect-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf ? csrf.value : "" }
    }).then(function (response) {
      if (!response.ok) { button.disabled = false; return; }
      thanks.hidden = false;
      box.hidden = false;
      list.textContent = "";
      box.dispatchEvent(new CustomEvent("kb:deflected", { bubbles: true, detail: { article: articleId } }));
    }).catch(function () { button.disabled = false; });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 250);
  });
  if (input.value) lookup();
})();
