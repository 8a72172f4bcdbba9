/* Caseloop workspace: the agent's time on the case. While the page is visible and the agent
   has used mouse, keys or scroll lately, a heartbeat goes to the desk every
   data-beat-seconds; when the tab is hidden, the page is left or the agent goes idle, one
   last beat says they stopped. The desk counts the time between beats (see
   caseloop.insights.worktime). The panel (#worktime) shows the agent's intervals. */
(function () {
  "use strict";

  var lastInput = Date.now();
  var tracking = false;
  var timer = null;
  // Read once, from the panel as the page first had it (the panel is re-rendered later).
  var beatUrl = "", beatMs = 30000, idleMs = 300000;

  function panel() { return document.getElementById("worktime"); }

  function millisecondsOf(element, name, fallback) {
    var value = Number(element.dataset[name]);
    return value > 0 ? value * 1000 : fallback;
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function isActive() {
    return document.visibilityState === "visible" && Date.now() - lastInput < idleMs;
  }

  function minutesText(seconds) {
    var minutes = Math.floor((seconds + 30) / 60);
    var hours = Math.floor(minutes / 60);
    return hours ? hours + " h " + (minutes % 60) + " min" : minutes + " min";
  }

  function refreshPanel() {
    var element = panel();
    // Never while the agent is typing a correction into it: the next beat asks again.
    if (element && !element.contains(document.activeElement)) {
      element.dispatchEvent(new CustomEvent("worktime-refresh"));
    }
  }

  /* Show what the desk counted: the interval's minutes and the total, or a fresh panel
     when the beat started an interval the panel does not list yet. */
  function show(answer) {
    var element = panel();
    if (!element || !answer || !answer.interval) { return; }
    var row = element.querySelector('[data-interval="' + answer.interval + '"]');
    if (!row) { refreshPanel(); return; }
    row.dataset.seconds = answer.seconds;
    row.querySelector(".worktime-minutes").textContent = minutesText(answer.seconds);
    var total = 0;
    element.querySelectorAll("[data-interval]").forEach(function (item) { total += Number(item.dataset.seconds) || 0; });
    var shown = element.querySelector("[data-worktime-total]");
    if (shown) { shown.textContent = minutesText(total); }
  }

  function beatData(active) {
    var data = new FormData();
    data.append("active", active ? "1" : "0");
    data.append("csrfmiddlewaretoken", csrfToken());
    return data;
  }

  function send(active) {
    return fetch(beatUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: beatData(active)
    }).then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  }

  /* The last word when the page goes away: a beacon outlives the page. */
  function stop() {
    if (!tracking) { return; }
    tracking = false;
    if (!(navigator.sendBeacon && navigator.sendBeacon(beatUrl, beatData(false)))) {
      send(false);
    }
  }

  function beat() {
    if (isActive()) {
      tracking = true;
      send(true).then(show);
    } else if (tracking) {
      tracking = false;
      send(false).then(show);
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { beat(); schedule(); }, beatMs);
  }

  function interacted() {
    var resumed = beatUrl && !tracking && document.visibilityState === "visible";
    lastInput = Date.now();
    if (resumed) { beat(); schedule(); }
  }

  ["mousemove", "mousedown", "keydown", "wheel", "scroll", "touchstart", "focusin"].forEach(function (name) {
    document.addEventListener(name, interacted, { passive: true, capture: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { stop(); } else { interacted(); }
  });
  window.addEventListener("pagehide", stop);

  /* The panel's forms answer a refusal (403) or a mistake (422) with the panel saying why:
     show it rather than leave the form as it was. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var element = panel();
    var status = event.detail.xhr.status;
    if (element && element.contains(event.detail.elt) && (status === 403 || status === 422)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function start() {
    var element = panel();
    if (!element) { return; }
    beatUrl = element.dataset.beatUrl;
    beatMs = millisecondsOf(element, "beatSeconds", beatMs);
    idleMs = millisecondsOf(element, "idleSeconds", idleMs);
    // Opening the case is the start of work on it: the first beat goes at once (unless
    // the page opened in a background tab), and the panel is filled once it is counted.
    var counted = Promise.resolve(null);
    if (document.visibilityState === "visible") {
      tracking = true;
      counted = send(true);
    }
    counted.then(function () { refreshPanel(); });
    schedule();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
