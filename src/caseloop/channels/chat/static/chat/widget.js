/* Caseloop live chat widget. Embed with one tag:
 *   <script src="https://desk.example/static/chat/widget.js" data-widget="KEY" async></script>
 * Plain JavaScript, no build step. The visitor id is kept in localStorage so a returning
 * visitor continues the same conversation. Text is always set with textContent.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var key = script.getAttribute("data-widget");
  if (!key) return;
  var base = new URL(script.src);
  var wsUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host +
    "/ws/chat/" + encodeURIComponent(key) + "/";
  var storeKey = "caseloop-chat-" + key;
  var socket = null;
  var retry = 1000;
  var pending = [];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  var style = el("link", { rel: "stylesheet", href: base.origin + "/static/chat/widget.css" });
  document.head.appendChild(style);
  var root = el("div", { "class": "cl-chat", "data-state": "closed" });
  var toggle = el("button", { type: "button", "class": "cl-chat-toggle", "aria-expanded": "false" }, "Chat with us");
  var panel = el("section", { "class": "cl-chat-panel", "aria-label": "Chat", hidden: "" });
  var log = el("ol", { "class": "cl-chat-log", "aria-live": "polite" });
  var form = el("form", { "class": "cl-chat-form" });
  var input = el("textarea", { rows: "2", "aria-label": "Your message", maxlength: "5000" });
  var send = el("button", { type: "submit" }, "Send");
  var idForm = el("form", { "class": "cl-chat-identify" });
  var email = el("input", { type: "email", "aria-label": "Your email (for a reply and the transcript)", placeholder: "Email for the transcript" });
  var idSend = el("button", { type: "submit" }, "Save");
  var codeForm = el("form", { "class": "cl-chat-identify cl-chat-code", hidden: "" });
  var code = el("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", "aria-label": "The code we emailed you", placeholder: "Code from the email" });
  var codeSend = el("button", { type: "submit" }, "Confirm");
  var end = el("button", { type: "button", "class": "cl-chat-end" }, "End chat");
  var status = el("p", { "class": "cl-chat-status", role: "status" });
  form.appendChild(input); form.appendChild(send);
  idForm.appendChild(email); idForm.appendChild(idSend);
  codeForm.appendChild(code); codeForm.appendChild(codeSend);
  [log, status, form, idForm, codeForm, end].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(toggle); root.appendChild(panel);
  document.body.appendChild(root);

  function add(message) {
    if (message.id && log.querySelector('[data-id="' + message.id + '"]')) return;
    var item = el("li", { "class": "cl-msg cl-" + message.direction });
    if (message.id) item.setAttribute("data-id", String(message.id));
    item.appendChild(el("span", { "class": "cl-who" }, message.author || ""));
    item.appendChild(el("p", {}, message.text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function transmit(payload) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(payload));
    else pending.push(payload);
  }

  function connect() {
    var visitor = "";
    try { visitor = window.localStorage.getItem(storeKey) || ""; } catch (e) { visitor = ""; }
    socket = new WebSocket(wsUrl + (visitor ? "?visitor=" + encodeURIComponent(visitor) : ""));
    socket.onopen = function () {
      retry = 1000;
      status.textContent = "";
      while (pending.length) socket.send(JSON.stringify(pending.shift()));
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "welcome") {
        try { window.localStorage.setItem(storeKey, data.visitor); } catch (e) { /* private mode */ }
        log.textContent = "";
        if (data.greeting) add({ direction: "outbound", author: "", text: data.greeting });
        (data.history || []).forEach(add);
        if (data.email) email.value = data.email;
      } else if (data.type === "message") {
        add(data.message);
      } else if (data.type === "received") {
        status.textContent = data.reference ? "Case " + data.reference : "";
      } else if (data.type === "identified") {
        codeForm.setAttribute("hidden", "");
        status.textContent = "Thanks — we will send the transcript to " + data.email + ".";
      } else if (data.type === "code_sent") {
        codeForm.removeAttribute("hidden");
        code.focus();
        status.textContent = "We emailed a code to " + data.email + ". Enter it to link this chat to your earlier requests.";
      } else if (data.type === "closed") {
        status.textContent = data.transcript ? "Chat ended. The transcript is on its way." : "Chat ended.";
      } else if (data.type === "error") {
        status.textContent = data.detail;
      }
    };
    socket.onclose = function (event) {
      if (event.code === 4403) { status.textContent = "Chat is not available on this site."; return; }
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  toggle.addEventListener("click", function () {
    var open = panel.hasAttribute("hidden");
    if (open) panel.removeAttribute("hidden"); else panel.setAttribute("hidden", "");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && !socket) connect();
    if (open) input.focus();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var id = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    add({ direction: "inbound", author: "You", text: text, id: "local-" + id });
    transmit({ type: "message", text: text, id: id });
    input.value = "";
  });
  idForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (email.value.trim()) transmit({ type: "identify", email: email.value.trim() });
  });
  codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (code.value.trim()) transmit({ type: "verify", code: code.value.trim() });
    code.value = "";
  });
  end.addEventListener("click", function () { transmit({ type: "close" }); });
})();
