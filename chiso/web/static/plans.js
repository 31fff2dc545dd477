/* The plan page (chiso/plans/templates/plans/plan.html): add a target, edit one, record a
 * revision, each through the plans API with the session's CSRF token (chiso.send); the
 * page reloads on success and shows the API's problems otherwise. Rows open and close
 * with data-show / data-hide (chiso.js). */
(function () {
  "use strict";

  function fields(form, names, keepEmpty) {
    var body = {};
    names.forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value !== "") { body[name] = name === "year" ? parseInt(value, 10) : value; }
      else if (keepEmpty) { body[name] = name === "note" ? "" : null; }
    });
    return body;
  }

  function sendForm(form, method, url, body) {
    var error = form.querySelector(".edit-error");
    window.chiso.send(method, url, body).then(function (answer) {
      if (answer.ok) { window.location.reload(); return; }
      error.textContent = answer.message;
      error.hidden = false;
    });
  }

  function on(selector, build) {
    document.querySelectorAll(selector).forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var call = build(form);
        sendForm(form, call[0], call[1], call[2]);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    on("#add-target-form", function (form) {
      return ["POST", form.dataset.url, fields(form, ["indicator", "unit", "year", "comparator",
        "value", "value_high", "baseline_value", "baseline_date", "target_date", "note"])];
    });
    on("form.target-form", function (form) {
      return ["PUT", "/api/targets/" + form.dataset.targetId, fields(form, ["comparator", "value",
        "value_high", "target_date", "baseline_value", "baseline_date", "note"], true)];
    });
    on("form.revise-form", function (form) {
      return ["POST", "/api/targets/" + form.dataset.targetId + "/revisions",
        fields(form, ["value", "effective_from", "basis_code", "basis_date", "note"])];
    });
  });
})();
