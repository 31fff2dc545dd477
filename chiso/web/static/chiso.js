/* chiso's one page script, loaded by base.html on every page (no inline script anywhere:
 * the Content-Security-Policy forbids them). Pages declare behaviour with attributes;
 * this file wires it up. Documented in docs/frontend.md.
 *
 *   chiso.send(method, url, body)   fetch with the session's CSRF token, JSON both ways;
 *                                   resolves {ok, status, data, message} (message in the
 *                                   page's language)
 *   chiso.number(value, decimals)   1.234,5 (vi) / 1,234.5 (en)
 *   <button data-menu-toggle>       opens and closes the main menu on a phone
 *   [data-bell]                     the header bell: unread notifications, counted here
 *   select.js-autosubmit / [data-autosubmit]   submits its form when changed
 *   form[data-confirm="question"]   asks before submitting
 *   form[data-skip-empty-files]     leaves out file fields with no file chosen
 *   [data-show="id"] / [data-hide="id"]   shows or hides element #id when clicked
 *   [data-filter-rows="selector"]   a search box that filters rows (catalogue)
 */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var vi = (root.lang || "vi") !== "en";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function send(method, url, body) {
    var options = {method: method, credentials: "same-origin",
                   headers: {"X-CSRF-Token": csrfToken(), "Accept": "application/json"}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        var message = "";
        if (!response.ok) {
          message = (vi ? data.message_vi : data.message_en) || data.detail || "";
          if (data.problems) { message = data.problems.join("\n"); }
          if (typeof message !== "string") { message = JSON.stringify(message); }
        }
        return {ok: response.ok, status: response.status, data: data, message: message};
      });
    }, function () {
      return {ok: false, status: 0, data: {}, message: vi
        ? "Không kết nối được máy chủ; hãy thử lại." : "Could not reach the server; try again."};
    });
  }

  function number(value, decimals) {
    if (value === null || value === undefined || value === "") { return "–"; }
    var digits = decimals === undefined ? 2 : decimals;
    return new Intl.NumberFormat(vi ? "vi-VN" : "en-GB",
      {maximumFractionDigits: digits}).format(value);
  }

  window.chiso = {send: send, number: number, csrfToken: csrfToken, vi: vi};

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  function menu() {
    each("[data-menu-toggle]", function (button) {
      var nav = document.getElementById(button.getAttribute("aria-controls"));
      if (!nav) { return; }
      function set(open) {
        button.setAttribute("aria-expanded", open ? "true" : "false");
        nav.classList.toggle("open", open);
      }
      set(false);
      button.addEventListener("click", function () {
        set(button.getAttribute("aria-expanded") !== "true");
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
          set(false);
          button.focus();
        }
      });
    });
  }

  function bell() {
    each("[data-bell]", function (link) {
      var count = link.querySelector(".bell-count");
      fetch("/api/notifications", {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !count) { return; }
          count.textContent = data.unread > 99 ? "99+" : String(data.unread);
          count.hidden = !data.unread;
          link.classList.toggle("has-unread", data.unread > 0);
          var label = link.dataset.label || "";
          link.setAttribute("aria-label", label + (data.unread ? " (" + data.unread + ")" : ""));
        })
        .catch(function () { /* offline: the link still works */ });
    });
  }

  function forms() {
    each(".js-autosubmit, [data-autosubmit]", function (field) {
      field.addEventListener("change", function () {
        if (field.form) { field.form.submit(); }
      });
    });
    each("form[data-confirm]", function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
    // A browser sends an empty file field as a file named '' and the upload guard refuses
    // it (415): leave the field out when no file was chosen.
    each("form[data-skip-empty-files]", function (form) {
      form.addEventListener("submit", function () {
        Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
          if (!input.files || input.files.length === 0) { input.disabled = true; }
        });
      });
    });
    each("[data-show], [data-hide]", function (button) {
      button.addEventListener("click", function () {
        var shown = document.getElementById(button.dataset.show || "");
        var hidden = document.getElementById(button.dataset.hide || "");
        if (shown) { shown.hidden = false; }
        if (hidden) { hidden.hidden = true; }
      });
    });
  }

  // Search that matches word starts: typed without accents it matches accent-free ("cap
  // quang" finds "cáp quang"); typed with accents it matches as written. Đ does not
  // decompose: mapped by hand. Rows carry data-exact and data-plain texts.
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d")
      .toLowerCase();
  }
  function words(text) { return text.split(/[^0-9a-z\u00c0-\u1ef9]+/).filter(Boolean); }

  function filters() {
    each("input[data-filter-rows]", function (input) {
      var rows = Array.prototype.slice.call(document.querySelectorAll(input.dataset.filterRows));
      rows.forEach(function (row) {
        row.exactWords = words(row.dataset.exact || "");
        row.plainWords = words(row.dataset.plain || "");
      });
      var groups = input.dataset.filterGroups;
      var empty = document.getElementById(input.dataset.filterEmpty || "");
      function apply() {
        var typed = input.value.normalize("NFC").toLowerCase();
        var accented = plain(typed) !== typed;
        var query = words(accented ? typed : plain(typed));
        var shown = 0;
        rows.forEach(function (row) {
          var haystack = accented ? row.exactWords : row.plainWords;
          row.hidden = !query.every(function (q) {
            return haystack.some(function (w) { return w.indexOf(q) === 0; });
          });
          if (!row.hidden) { shown += 1; }
        });
        if (groups) {
          each(groups, function (group) {
            var visible = group.querySelectorAll(input.dataset.filterRows + ":not([hidden])").length;
            group.hidden = visible === 0;
            var counter = group.querySelector(".visible-count");
            if (counter) { counter.textContent = visible; }
          });
        }
        if (empty) { empty.hidden = shown > 0; }
      }
      input.addEventListener("input", apply);
      apply();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    menu();
    bell();
    forms();
    filters();
  });
})();
