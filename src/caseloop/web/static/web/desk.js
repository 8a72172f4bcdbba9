/* Caseloop desk: live updates over WebSocket, keyboard shortcuts, the reply coach. */
(function () {
  "use strict";
  var body = document.body;
  // Translations from the page's JavaScript catalogue (/jsi18n/), English without it.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_, name) { return values[name]; });
  };

  function announce(text) {
    var live = document.getElementById("live");
    if (live) { live.textContent = text; }
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* ---- live updates ---- */
  var INBOX_KINDS = ["case.created", "message.added", "case.status", "case.updated", "case.owner", "case.merged"];

  function refreshRow(caseId, isNew) {
    var base = body.dataset.rowUrl.replace(/0\/$/, caseId + "/");
    var url = base + "?" + (body.dataset.query || "");
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (response) {
      if (response.status === 204) {
        var gone = document.getElementById("case-" + caseId);
        if (gone) { gone.remove(); }
        return null;
      }
      return response.text().then(function (html) {
        var holder = document.createElement("tbody");
        holder.innerHTML = html.trim();
        var row = holder.querySelector("tr");
        if (!row) { return; }
        // Looked up only now: events close together fetch in parallel, and an earlier
        // answer may have put the row in while this one was on its way.
        var existing = document.getElementById("case-" + caseId);
        var sort = new URLSearchParams(body.dataset.query || "").get("sort");
        if (sort === "priority" || sort === "waiting") {
          // A new priority, or a reply, may move the row: put it where it now belongs.
          if (existing) { existing.remove(); }
          if (!placeInOrder(row, sort === "priority" ? byPriority : byWaiting)) { return; }
        } else if (existing) {
          existing.replaceWith(row);
        } else if (sort !== "oldest") {
          document.getElementById("case-rows").prepend(row);
        } else { return; }
        row.classList.add("fresh");
        var empty = document.getElementById("empty");
        if (empty) { empty.remove(); }
        if (isNew) { announce(interpolate(gettext("New case %(reference)s"), { reference: row.querySelector("a").textContent }, true)); }
      });
    });
  }

  var PRIORITY_RANK = { urgent: 3, high: 2, normal: 1, low: 0 };

  function rankOf(row) {
    var badge = row.querySelector(".prio");
    return badge ? PRIORITY_RANK[badge.classList[1]] || 0 : 0;
  }

  /* Does row a come before row b? Highest priority first, newest first within a priority. */
  function byPriority(a, b) {
    var ra = rankOf(a), rb = rankOf(b);
    return ra > rb || (ra === rb && Number(a.dataset.case) > Number(b.dataset.case));
  }

  /* Cases awaiting a reply, longest wait first (then by id); then the rest, newest first. */
  function byWaiting(a, b) {
    var wa = a.dataset.waiting, wb = b.dataset.waiting;
    if (wa && wb) {
      return Number(wa) < Number(wb) || (wa === wb && Number(a.dataset.case) < Number(b.dataset.case));
    }
    if (wa || wb) { return Boolean(wa); }
    return Number(a.dataset.case) > Number(b.dataset.case);
  }

  /* Put a row where it belongs in the list's order. Past the last row it belongs only when
     no later page follows. */
  function placeInOrder(row, before) {
    var list = rows();
    for (var i = 0; i < list.length; i++) {
      if (before(row, list[i])) {
        list[i].before(row);
        return true;
      }
    }
    if (document.querySelector("#case-rows tr.more")) { return false; }
    document.getElementById("case-rows").append(row);
    return true;
  }

  function refreshTimeline() {
    if (!document.getElementById("timeline-wrap") || !window.htmx) { return; }
    htmx.ajax("GET", body.dataset.timelineUrl, { target: "#timeline-wrap", swap: "innerHTML" })
      .then(function () { announce(gettext("The timeline was updated.")); });
  }

  /* Who else has this case open: "viewing", or "replying" while they type. */
  var others = {};
  var liveSocket = null;
  var myState = "viewing";
  var stateTimer = null;

  function showPresence() {
    var box = document.getElementById("presence");
    if (!box) { return; }
    var replying = [], viewing = [];
    Object.keys(others).forEach(function (id) {
      (others[id].state === "replying" ? replying : viewing).push(others[id].name);
    });
    var parts = [];
    if (replying.length) {
      parts.push(interpolate(ngettext("%(names)s is replying to this case right now", "%(names)s are replying to this case right now", replying.length), { names: replying.join(", ") }, true));
    }
    if (viewing.length) {
      parts.push(interpolate(ngettext("%(names)s is viewing it", "%(names)s are viewing it", viewing.length), { names: viewing.join(", ") }, true));
    }
    box.textContent = parts.join("; ") + (parts.length ? "." : "");
    box.hidden = !parts.length;
    box.classList.toggle("warn", replying.length > 0);
  }

  function sendState(state) {
    if (state === myState || !liveSocket || liveSocket.readyState !== 1) { return; }
    myState = state;
    liveSocket.send(JSON.stringify({ kind: state }));
  }

  function watchTyping() {
    var text = document.getElementById("reply-text");
    if (!text) { return; }
    text.addEventListener("input", function () {
      sendState("replying");
      clearTimeout(stateTimer);
      stateTimer = setTimeout(function () { sendState("viewing"); }, 20000);
    });
  }

  function onPresence(event) {
    if (String(event.case_id) !== body.dataset.case || String(event.user) === (bellData().me || "")) { return; }
    if (event.state === "left") { delete others[event.user]; } else { others[event.user] = { name: event.name, state: event.state }; }
    showPresence();
  }

  function bellData() {
    var bell = document.getElementById("bell");
    return bell ? bell.dataset : {};
  }

  function onNotification(event) {
    body.dispatchEvent(new CustomEvent("caseloop:notification"));
    announce(event.text || "A new notification.");
  }

  function connect(attempt) {
    var url = body.dataset.ws || bellData().ws;
    if (!url || !window.WebSocket) { return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + url);
    liveSocket = socket;
    socket.onopen = function () { body.dataset.live = "on"; attempt = 0; myState = "viewing"; };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.kind === "notification") {
        onNotification(event);
      } else if (event.kind === "presence") {
        onPresence(event);
      } else if (body.dataset.page === "inbox" && INBOX_KINDS.indexOf(event.kind) !== -1) {
        refreshRow(event.case_id, event.kind === "case.created");
      } else if (body.dataset.page === "case" && String(event.case_id) === body.dataset.case) {
        refreshTimeline();
      }
    };
    socket.onclose = function () {
      body.dataset.live = "off";
      others = {};
      showPresence();
      setTimeout(function () { connect(attempt + 1); }, Math.min(30000, 1000 * Math.pow(2, attempt || 0)));
    };
  }

  /* ---- keyboard ---- */
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.case-row")); }
  function currentRow() { return document.querySelector("tr.case-row.current"); }
  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var index = list.indexOf(currentRow());
    var next = list[Math.max(0, Math.min(list.length - 1, index + step))] || list[0];
    if (index === -1) { next = list[0]; }
    list.forEach(function (row) { row.classList.remove("current"); });
    next.classList.add("current");
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }
  function openCurrent(hash) {
    var row = currentRow();
    if (row) { location.href = row.dataset.href + (hash || ""); }
  }
  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function toggleHelp() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog) { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) { return; }
    var key = event.key;
    if (key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (!document.getElementById("shortcuts")) { return; }
    if (body.dataset.page === "inbox") {
      if (key === "j") { move(1); } else if (key === "k") { move(-1); }
      else if (key === "o" || key === "Enter") { if (currentRow()) { event.preventDefault(); openCurrent(); } }
      else if (key === "x") { var row = currentRow(); if (row) { var box = row.querySelector("input[type=checkbox]"); box.checked = !box.checked; } }
      else if (key === "r") { openCurrent("#reply"); }
      else if (key === "e") { openCurrent("#escalate"); }
      else if (key === "/") { event.preventDefault(); var search = document.querySelector("[data-shortcut=search]"); if (search) { search.focus(); } }
      else { return; }
    } else if (body.dataset.page === "case") {
      if (key === "r") { event.preventDefault(); focusReply(); }
      else if (key === "e") { event.preventDefault(); focusEscalate(); }
    }
  });

  function focusReply() { var text = document.getElementById("reply-text"); if (text) { text.focus(); } }
  function focusEscalate() {
    // Escalation is the loop's: its form carries the hand-off checks.
    var loopForm = document.querySelector('#panel-loop form[action*="escalate"]');
    if (!loopForm) { return; }
    var details = loopForm.closest("details");
    if (details) { details.open = true; }
    var target = loopForm.querySelector("select, textarea, input:not([type=hidden])");
    if (target) { target.scrollIntoView({ block: "center" }); target.focus(); }
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-open-help]")) { toggleHelp(); }
    // The loop's stepper opens the stage's section (the others fold: one open at a time).
    var stageLink = event.target.closest("[data-stage-link]");
    if (stageLink) {
      var section = document.querySelector(stageLink.getAttribute("href"));
      if (section && section.tagName === "DETAILS") {
        event.preventDefault();
        section.open = true;
        section.scrollIntoView({ block: "start" });
        section.querySelector("summary").focus();
      }
    }
    var row = event.target.closest("tr.case-row");
    if (row && !event.target.closest("a, input, button")) {
      rows().forEach(function (r) { r.classList.remove("current"); });
      row.classList.add("current");
    }
  });

  /* ---- the reply coach ---- */
  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function setupCoach() {
    var textarea = document.getElementById("reply-text");
    if (!textarea || !textarea.dataset.coachUrl) { return; }
    var panel = document.getElementById("coach-findings");
    var highlights = document.querySelector(".coach-highlights");
    var backdrop = document.querySelector(".coach-backdrop");
    var timer = null;
    var sequence = 0;
    var findings = [];
    // A reply that was not sent came back with the coach's verdict under it: keep that
    // until the agent edits the draft (the live check still paints the highlights).
    var holding = Boolean(panel.querySelector(".reply-held"));

    function isNote() {
      var kind = document.querySelector("input[name=kind]:checked");
      return kind && kind.value === "note";
    }

    function paint() {
      var text = textarea.value;
      var html = "";
      var position = 0;
      findings.slice().sort(function (a, b) { return a.start - b.start; }).forEach(function (f) {
        if (f.start < position || f.end <= f.start || f.end - f.start >= text.length) { return; }
        html += escapeHtml(text.slice(position, f.start)) + "<mark>" + escapeHtml(text.slice(f.start, f.end)) + "</mark>";
        position = f.end;
      });
      highlights.innerHTML = html + escapeHtml(text.slice(position)) + "\n";
      backdrop.scrollTop = textarea.scrollTop;
    }

    function render() {
      paint();
      if (holding) { return; }
      if (!findings.length) {
        panel.innerHTML = textarea.value.trim() && !isNote() ? '<p class="coach-ok">The reply coach has no suggestions.</p>' : "";
        return;
      }
      var items = findings.map(function (f, index) {
        return '<li class="finding ' + escapeHtml(f.severity) + '" data-rule="' + escapeHtml(f.rule_id) + '">' +
          (f.blocks ? '<span class="verdict holds">Holds the reply</span> ' : '<span class="verdict">Advice</span> ') +
          escapeHtml(f.message) +
          (f.excerpt && f.excerpt.length < 120 ? " <mark>" + escapeHtml(f.excerpt) + "</mark>" : "") +
          (f.suggestion ? '<br><span class="suggestion">Try: ' + escapeHtml(f.suggestion) + "</span>" : "") +
          ' <button type="button" data-select="' + index + '">Show</button></li>';
      }).join("");
      var holds = findings.filter(function (f) { return f.blocks; }).length;
      var verdict = holds
        ? " — " + (holds === findings.length ? (holds === 1 ? "it holds" : "they hold") : holds + " of them hold") +
          " the reply until you revise it or send it anyway."
        : " — advice only: the reply will go.";
      panel.innerHTML = '<p class="coach-title"><strong>The reply coach has ' + findings.length +
        " suggestion" + (findings.length === 1 ? "" : "s") + "</strong>" + verdict + "</p><ul>" + items + "</ul>";
    }

    function check() {
      var text = textarea.value;
      var mine = ++sequence;
      if (!text.trim() || isNote()) { findings = []; render(); return; }
      fetch(textarea.dataset.coachUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ text: text, case: parseInt(textarea.dataset.case, 10) || null })
      }).then(function (r) { return r.ok ? r.json() : { findings: [] }; }).then(function (data) {
        if (mine !== sequence) { return; }
        findings = data.findings || [];
        render();
      });
    }

    textarea.addEventListener("input", function () { holding = false; paint(); clearTimeout(timer); timer = setTimeout(check, 350); });
    textarea.addEventListener("scroll", function () { backdrop.scrollTop = textarea.scrollTop; });
    document.querySelectorAll("input[name=kind]").forEach(function (radio) { radio.addEventListener("change", check); });
    panel.addEventListener("click", function (event) {
      if (event.target.closest("[data-reply-edit]")) {
        // Back to the draft, at the first passage that holds it.
        event.preventDefault();
        var first = findings.filter(function (f) { return f.blocks; })[0] || findings[0];
        if (!first) {
          // The coach's live check has not answered yet: the held reply's own findings say where.
          var held = panel.querySelector(".reply-held .finding[data-blocks]") || panel.querySelector(".reply-held .finding");
          if (held) { first = { start: parseInt(held.dataset.start, 10), end: parseInt(held.dataset.end, 10) }; }
        }
        textarea.focus();
        if (first) { textarea.setSelectionRange(first.start, first.end); }
        return;
      }
      var button = event.target.closest("[data-select]");
      if (!button) { return; }
      var f = findings[parseInt(button.dataset.select, 10)];
      textarea.focus();
      textarea.setSelectionRange(f.start, f.end);
    });
    // A held reply swapped in under the composer (htmx): the coach's verdict stays until
    // the draft changes.
    panel.addEventListener("htmx:afterSwap", function () {
      holding = Boolean(panel.querySelector(".reply-held"));
      var notice = panel.querySelector(".reply-held");
      if (notice) { notice.scrollIntoView({ block: "nearest" }); }
    });
    if (textarea.value.trim()) { check(); }

    var macro = document.getElementById("reply-macro");
    if (macro) {
      macro.addEventListener("change", function () {
        if (!macro.value) { return; }
        fetch(macro.dataset.macroUrl.replace(/0\/$/, macro.value + "/"), { credentials: "same-origin" })
          .then(function (r) { return r.json(); }).then(function (data) {
            if (!data.text) { return; }
            textarea.value = textarea.value ? textarea.value + "\n\n" + data.text : data.text;
            // The reply carries which prepared response it holds: sending it counts as a use.
            if (!textarea.form.querySelector('input[name="macro"][value="' + macro.value + '"]')) {
              var carried = document.createElement("input");
              carried.type = "hidden";
              carried.name = "macro";
              carried.value = macro.value;
              textarea.form.appendChild(carried);
            }
            check();
          });
      });
    }
  }

  /* ---- "Used" on a suggestion: put its answer into the reply, and say it helped ---- */
  function insertIntoReply(text) {
    var textarea = document.getElementById("reply-text");
    if (!textarea || !text) { return false; }
    var current = textarea.value.replace(/\s+$/, "");
    textarea.value = current ? current + "\n\n" + text : text;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    return true;
  }

  /* The opening of an article (its rendered HTML) as plain reply text: paragraphs and list
     items, until about 600 characters. */
  function articleExcerpt(html) {
    var doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
    var parts = [];
    var length = 0;
    Array.prototype.forEach.call(doc.body.firstChild.children, function (block) {
      if (length > 600 || /^H[1-6]$/.test(block.tagName)) { return; }
      var lines = /^(UL|OL)$/.test(block.tagName)
        ? Array.prototype.map.call(block.querySelectorAll("li"), function (li, i) {
          return (block.tagName === "OL" ? (i + 1) + ". " : "- ") + li.textContent.trim().replace(/\s+/g, " ");
        })
        : [block.textContent.trim().replace(/\s+/g, " ")];
      var text = lines.filter(Boolean).join("\n");
      if (text) { parts.push(text); length += text.length; }
    });
    return parts.join("\n\n");
  }

  /* Another case's last reply without its greeting and sign-off, which name someone else. */
  function replyBody(text) {
    var lines = text.replace(/\r/g, "").split("\n");
    while (lines.length && !lines[0].trim()) { lines.shift(); }
    if (lines.length && lines[0].length < 60 && /^(hi|hello|hey|dear|good (morning|afternoon|evening))\b/i.test(lines[0].trim())) {
      lines.shift();
    }
    for (var i = lines.length - 1; i > 0; i--) {
      if (lines[i].length < 40 && /^(best|kind|warm|many)?\s*(regards|wishes)|^(thanks|thank you|cheers|sincerely)\b[^.?!]*,?$/i.test(lines[i].trim())) {
        lines = lines.slice(0, i);
        break;
      }
    }
    return lines.join("\n").trim();
  }

  function suggestionText(button) {
    if (button.dataset.insertText) { return Promise.resolve(replyBody(button.dataset.insertText)); }
    if (!button.dataset.insertArticle) { return Promise.resolve(""); }
    return fetch(button.dataset.insertArticle, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (article) {
        var text = articleExcerpt(article.body_html || "");
        if (text && button.dataset.insertLink) {
          text += "\n\nMore in our help centre: " + new URL(button.dataset.insertLink, location.href).href;
        }
        return text;
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=verdict][value=used]");
    var textarea = document.getElementById("reply-text");
    if (!button || !textarea || !(button.dataset.insertArticle || button.dataset.insertText)) { return; }
    event.preventDefault();
    var form = button.form;
    var data = new FormData(form);
    data.append("verdict", "used");
    button.disabled = true;
    // The feedback is kept whatever the insertion does. Its answer redirects to this page,
    // with a flash message; following it uses the message up (the button says it instead),
    // so it does not turn up after the agent's next action.
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" }).catch(function () {
      button.disabled = false;
    });
    suggestionText(button).then(function (text) {
      if (insertIntoReply(text)) {
        button.textContent = gettext("Used: in your reply");
        announce(gettext("The suggestion is in your reply."));
      } else {
        button.disabled = false;
      }
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Shortcuts are wired by now; tests and assistive tools can wait for this mark.
    body.dataset.ready = "yes";
    connect(0);
    watchTyping();
    setupCoach();
    if (location.hash === "#reply") { focusReply(); }
    if (location.hash === "#escalate") { focusEscalate(); }
  });
})();
