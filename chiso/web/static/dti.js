/* The DTI what-if page (chiso/dti/templates/dti/what_if.html): sends the values as typed and
 * shows the server's formatted answer. Pickers, confirmations (chiso.js) and charts
 * (charts.js) are declared in the pages. */
(function () {
  "use strict";

  function whatIf(form) {
    var request = JSON.parse(form.dataset.request);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var changes = {};
      form.querySelectorAll("input[name]").forEach(function (input) {
        var text = input.value.trim();
        if (text !== "" && text !== input.defaultValue.trim()) { changes[input.name] = text; }
      });
      var body = Object.assign({}, request, {changes: changes});
      window.chiso.send("POST", "/api/dti/what-if", body).then(function (answer) {
        var error = document.getElementById("wi-error");
        error.hidden = answer.ok;
        if (!answer.ok) { error.textContent = answer.message; return; }
        var r = answer.data;
        document.getElementById("wi-total").textContent = r.display.total_after;
        document.getElementById("wi-rank").textContent = r.display.rank;
        document.getElementById("wi-points").textContent = r.display.points_gained;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("what-if-form");
    if (form) { whatIf(form); }
  });
})();
