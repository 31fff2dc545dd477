/* The reporting cycle's pages. Loaded as a file (no inline scripts: the CSP forbids them).
 *
 * 1. Offline-tolerant entry. A form with data-draft-key keeps what the officer types in
 *    localStorage at every keystroke. When the page is opened again (after a lost
 *    connection, a closed tab, a failed send) the kept figures are put back and a notice
 *    says so. Sending while offline is held: the figures stay on this device and the form
 *    is sent by itself as soon as the connection returns. A successful save (the page
 *    comes back with data-saved="1") forgets the kept copy.
 * (The data-quality chart is declared in its page and drawn by charts.js.)
 */
(function () {
  "use strict";

  var FIELD = /^(numerator|denominator|value|comment)_\d+$/;

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && FIELD.test(el.name) && !el.disabled;
    });
  }

  function read(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); }
    catch (e) { return null; }
  }

  function write(key, draft) {
    try { window.localStorage.setItem(key, JSON.stringify(draft)); return true; }
    catch (e) { return false; }
  }

  function show(box, state, text) {
    if (!box) { return; }
    box.className = "offline-state" + (state ? " is-" + state : "");
    box.textContent = text || "";
  }

  function timeText(stamp) {
    var d = new Date(stamp);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + " " + two(d.getDate()) + "/" +
      two(d.getMonth() + 1) + "/" + d.getFullYear();
  }

  function snapshot(form) {
    var values = {};
    fields(form).forEach(function (el) { values[el.name] = el.value; });
    return values;
  }

  function differs(form, values) {
    return fields(form).some(function (el) {
      return Object.prototype.hasOwnProperty.call(values, el.name) && values[el.name] !== el.value;
    });
  }

  function restore(form, draft, box) {
    if (!draft || !draft.values || !differs(form, draft.values)) { return false; }
    fields(form).forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(draft.values, el.name)) { el.value = draft.values[el.name]; }
    });
    show(box, "restored", form.dataset.msgRestored.replace("{time}", timeText(draft.at)));
    return true;
  }

  function sendHeld(form, key, box) {
    var draft = read(key);
    if (!draft || !draft.pending) { return; }
    show(box, "pending", form.dataset.msgSending);
    draft.pending = false;
    write(key, draft);
    var then = form.querySelector("input[name=then][type=hidden]");
    if (!then) {
      then = document.createElement("input");
      then.type = "hidden";
      then.name = "then";
      form.appendChild(then);
    }
    then.value = draft.then || "draft";
    form.submit();
  }

  function offlineEntry(form) {
    var key = form.dataset.draftKey;
    var box = document.getElementById("offline-state");
    if (form.dataset.saved === "1") { window.localStorage.removeItem(key); }
    var draft = read(key);
    restore(form, draft, box);
    if (draft && draft.pending) {
      if (navigator.onLine) { sendHeld(form, key, box); } else { show(box, "offline", form.dataset.msgHeld); }
    } else if (!navigator.onLine) {
      show(box, "offline", form.dataset.msgOffline);
    }
    var lastButton = "draft";
    form.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[name=then]") : null;
      if (button) { lastButton = button.value; }
    });
    form.addEventListener("input", function () {
      var kept = write(key, {values: snapshot(form), at: Date.now(), pending: false});
      if (!navigator.onLine && kept) { show(box, "offline", form.dataset.msgOffline); }
    });
    form.addEventListener("submit", function (event) {
      write(key, {values: snapshot(form), at: Date.now(), pending: !navigator.onLine,
                  then: lastButton});
      if (!navigator.onLine) {
        event.preventDefault();
        show(box, "offline", form.dataset.msgHeld);
      }
    });
    window.addEventListener("offline", function () { show(box, "offline", form.dataset.msgOffline); });
    window.addEventListener("online", function () {
      var held = read(key);
      if (held && held.pending) { sendHeld(form, key, box); } else { show(box, "", ""); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-draft-key]");
    if (form && window.localStorage) { offlineEntry(form); }
  });
})();
