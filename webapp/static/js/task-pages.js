/* Progressive enhancement for the purpose-built task pages; every page works the same without it. */
(function () {
  "use strict";

  // Agency report: keep the per-section violation counts (rendered by the server) up to date while ticking.
  function recount(section) {
    var number = section.getAttribute("data-section");
    var failed = section.querySelectorAll('input[type="radio"][value="fail"]:checked').length;
    document.querySelectorAll('[data-fail-count="' + number + '"]').forEach(function (counter) {
      counter.textContent = String(failed);
    });
  }
  document.querySelectorAll("[data-section]").forEach(function (section) {
    section.addEventListener("change", function (event) {
      if (event.target.matches('input[type="radio"]')) { recount(section); }
    });
  });

  // Consolidation: a criterion left as the unit assessed itself need not be sent (the server merges the
  // self-assessment the same way), which keeps a large cycle's form well under the server's limit on form parts.
  function enableAll() {
    document.querySelectorAll("select[data-self]").forEach(function (select) { select.disabled = false; });
  }
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("select[data-self]").forEach(function (select) {
        if (select.value === select.getAttribute("data-self")) { select.disabled = true; }
      });
    });
  });
  window.addEventListener("pageshow", enableAll);  // coming back with the Back button
})();
