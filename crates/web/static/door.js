// The checkpoint page: keypad, instant decision, and an offline queue.
// Every entry is kept in localStorage with its Idempotency-Key until the server has
// answered it, so a network drop loses nothing and a resend is never stored twice.
(function () {
  "use strict";
  var root = document.getElementById("door");
  if (!root) { return; }
  var d = root.dataset;
  var threshold = parseInt(d.threshold, 10);
  var capacity = parseInt(d.capacity, 10);
  var inside = parseInt(d.inside, 10);
  var queueKey = "fk-door-queue/" + d.site + "/" + d.checkpoint;
  var typed = "";
  var sending = false;
  var $ = function (id) { return document.getElementById(id); };

  function uuid() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function load() { try { return JSON.parse(localStorage.getItem(queueKey) || "[]"); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(queueKey, JSON.stringify(q)); showQueue(q); }
  function showQueue(q) { $("queue-count").textContent = q.length ? q.length + " " + d.tQueued : ""; }

  // "366" means 36.6; a typed point is kept as typed.
  function reading() {
    if (typed === "") { return null; }
    var s = typed.indexOf(".") >= 0 ? typed : (typed.length === 3 ? typed.slice(0, 2) + "." + typed.slice(2) : typed);
    var v = parseFloat(s);
    return isNaN(v) ? null : Math.round(v * 10) / 10;
  }
  function showTemp() { var r = reading(); $("temp-display").textContent = r === null ? "--.-" : r.toFixed(1); }
  function kind() { return document.querySelector("input[name=kind]:checked").value; }
  function phase() { var p = document.querySelector("input[name=phase]:checked"); return p ? p.value : ""; }

  function decide(t, mask) {
    if (Math.round(t * 10) >= threshold) { return "buffer"; }
    if (!mask) { return "refuse_no_mask"; }
    if (inside >= capacity) { return "wait"; }
    return "admit";
  }
  function showDecision(decision, provisional) {
    var box = $("decision");
    box.hidden = false;
    box.className = "decision decision-" + decision + (provisional ? " provisional" : "");
    box.dataset.decision = decision;
    // data-t-refuse_no_mask is read as dataset.tRefuse_no_mask.
    box.textContent = d["t" + decision.charAt(0).toUpperCase() + decision.slice(1)];
  }
  function showInside(n) { inside = n; $("inside").textContent = String(n); }
  function setOnline(ok, text) {
    var s = $("link-status");
    s.className = "link-status " + (ok ? "online" : "offline");
    s.textContent = text || (ok ? d.tOnline : d.tOffline);
  }
  function addRecent(entry, state) {
    var li = document.createElement("li");
    li.id = "entry-" + entry.key;
    li.className = state;
    li.textContent = entry.label + " · " + (state === "sent" ? d.tSent : d.tQueued);
    var list = $("recent");
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 12) { list.removeChild(list.lastChild); }
  }
  function markRecent(key, state, extra) {
    var li = document.getElementById("entry-" + key);
    if (!li) { return; }
    li.className = state;
    var base = li.textContent.split(" · ")[0];
    li.textContent = base + " · " + (state === "sent" ? d.tSent : (state === "rejected" ? d.tRejected + (extra || "") : d.tQueued));
  }

  function enqueue(url, body, label) {
    var entry = { key: uuid(), url: url, body: body, label: label };
    var q = load(); q.push(entry); save(q);
    addRecent(entry, "queued");
    flush();
  }

  // Sends queued entries in order; stops at the first network failure and retries later.
  function flush() {
    if (sending) { return; }
    var q = load();
    if (!q.length) { setOnline(true); return; }
    sending = true;
    var entry = q[0];
    fetch(entry.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": entry.key, "X-CSRF-Token": d.csrf },
      body: JSON.stringify(entry.body)
    }).then(function (res) {
      return res.text().then(function (text) {
        var json = null; try { json = JSON.parse(text); } catch (e) { json = null; }
        return { status: res.status, json: json };
      });
    }).then(function (r) {
      sending = false;
      if (r.status >= 200 && r.status < 300) {
        drop(entry.key);
        markRecent(entry.key, "sent");
        if (r.json && typeof r.json.inside === "number") { showInside(r.json.inside); }
        if (r.json && r.json.decision && $("decision").dataset.key === entry.key) { showDecision(r.json.decision, false); }
        setOnline(true);
        flush();
      } else if (r.status === 401 || r.status === 403) {
        setOnline(false, d.tSignin);
      } else if (r.status >= 400 && r.status < 500) {
        // Refused for good (bad input): keep nothing, say why.
        drop(entry.key);
        markRecent(entry.key, "rejected", r.json && r.json.detail ? r.json.detail : String(r.status));
        if ($("decision").dataset.key === entry.key) { $("decision").hidden = true; }
        refreshInside();
        flush();
      } else {
        setOnline(false);
      }
    }).catch(function () { sending = false; setOnline(false); });
  }
  function drop(key) { save(load().filter(function (e) { return e.key !== key; })); }

  function submit(mask) {
    var t = reading();
    var err = $("temp-error");
    if (t === null) { err.textContent = d.tMissing; return; }
    if (t < 34.0 || t > 43.0) { err.textContent = d.tRange; typed = ""; showTemp(); return; }
    err.textContent = "";
    var body = { site: d.site, checkpoint: d.checkpoint, subject_kind: kind(), temperature_c: t, mask: mask, at: new Date().toISOString() };
    var p = phase();
    if (kind().indexOf("staff") >= 0) {
      if (p) { body.phase = p; }
      var who = $("person").value;
      if (who) { body.person = who; }
    }
    var reg = $("registration").value.trim();
    if (reg) { body.registration = reg; }
    var decision = decide(t, mask);
    var label = new Date().toLocaleTimeString(document.documentElement.lang) + " " + t.toFixed(1) + "°C";
    enqueue("/api/v1/screenings", body, label);
    var key = load().slice(-1)[0];
    $("decision").dataset.key = key ? key.key : "";
    showDecision(decision, true);
    if (decision === "admit") { showInside(inside + 1); }
    typed = ""; showTemp(); $("registration").value = "";
    // A staff check names one person: the next reading starts unnamed.
    $("person").value = "";
    document.querySelector("input[name=phase][value='']").checked = true;
  }

  document.querySelectorAll(".keypad button").forEach(function (b) {
    b.addEventListener("click", function () {
      var k = b.dataset.key;
      if (k === "back") { typed = typed.slice(0, -1); }
      else if (k === ".") { if (typed.indexOf(".") < 0 && typed.length > 0) { typed += "."; } }
      else if (typed.replace(".", "").length < 3) { typed += k; }
      $("temp-error").textContent = "";
      // The next person: the last decision makes way.
      $("decision").hidden = true;
      showTemp();
    });
  });
  document.querySelectorAll("input[name=kind]").forEach(function (r) {
    r.addEventListener("change", function () { $("phases").hidden = kind().indexOf("staff") < 0; });
  });
  $("submit-mask").addEventListener("click", function () { submit(true); });
  $("submit-nomask").addEventListener("click", function () { submit(false); });
  $("exit").addEventListener("click", function () {
    enqueue("/api/v1/door-events", { site: d.site, checkpoint: d.checkpoint, direction: "out" }, new Date().toLocaleTimeString(document.documentElement.lang) + " " + d.tExit);
    showInside(Math.max(0, inside - 1));
  });
  window.addEventListener("online", flush);
  setInterval(flush, 3000);
  // The server's count, unless entries still wait to be sent (the page counts those).
  function refreshInside() {
    if (load().length) { return; }
    fetch("/api/v1/sites/" + encodeURIComponent(d.site) + "/occupancy", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (o) { if (o) { showInside(o.inside); } })
      .catch(function () {});
  }
  if (window.EventSource) {
    new EventSource("/live?topics=occupancy").addEventListener("occupancy", refreshInside);
  }
  showQueue(load());
  flush();
})();
