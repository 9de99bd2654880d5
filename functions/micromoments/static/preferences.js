// micromoments preferences page: small enhancements only; the form works without this.
(function () {
  "use strict";
  var form = document.querySelector("form[action='/preferences']");
  if (!form) return;

  // Working hours: show the rows of the chosen way only.
  var parts = { same: document.getElementById("hours-same"), days: document.getElementById("hours-days") };
  function showHours() {
    var chosen = form.querySelector("input[name=hours_mode]:checked");
    Object.keys(parts).forEach(function (mode) {
      if (parts[mode]) parts[mode].hidden = !chosen || chosen.value !== mode;
    });
  }
  form.querySelectorAll("input[name=hours_mode]").forEach(function (radio) {
    radio.addEventListener("change", showHours);
  });
  showHours();

  // Time zone: suggest this browser's, if it is one of the list and not already chosen.
  var input = document.getElementById("timezone");
  var note = document.getElementById("timezone-suggestion");
  var browserZone = "";
  try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  var known = Array.prototype.some.call(document.querySelectorAll("#timezones option"), function (o) {
    return o.value === browserZone;
  });
  if (!input || !note || !known || input.value === browserZone) return;
  note.textContent = "This browser is set to " + browserZone + ". ";
  var use = document.createElement("button");
  use.type = "button";
  use.className = "secondary small";
  use.textContent = "Use " + browserZone;
  use.addEventListener("click", function () {
    input.value = browserZone;
    note.hidden = true;
    input.focus();
  });
  note.appendChild(use);
  note.hidden = false;
})();
