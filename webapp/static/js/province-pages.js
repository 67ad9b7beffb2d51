/* Progressive enhancement for DIC's consolidation and evaluation pages; every action works the same without it.
   - the filter form applies itself on change;
   - opening a row's <details> fetches that unit's form in place (without the script, the link reloads the page with
     the row open);
   - a unit's form is saved with fetch (CSRF token included, as in the form) as soon as a value changes, and on
     submit; the row's status says so. The server keeps each unit's draft on its own row. */
(function () {
  "use strict";

  var filter = document.querySelector("form.table-filter");
  if (filter) {
    filter.addEventListener("change", function () { filter.submit(); });
  }

  function status(form, text) {
    var body = form.closest("tbody");
    var cell = body && body.querySelector("td.status");
    if (cell) { cell.textContent = text; }
  }

  function save(form) {
    var data = new FormData(form);
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": data.get("csrf_token") || ""}
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (answer) {
      status(form, answer.message);
      return answer;
    });
  }

  function wire(form) {
    if (form.dataset.wired) { return; }
    form.dataset.wired = "1";
    var timer = null;
    form.addEventListener("change", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { save(form).catch(function () {}); }, 400);
    });
    form.addEventListener("submit", function (event) {
      var next = event.submitter && event.submitter.name === "next" ? event.submitter.value : "";
      event.preventDefault();
      clearTimeout(timer);
      save(form).then(function () {
        if (next) {
          var row = document.getElementById("u-" + next);
          var details = row && row.querySelector("details");
          if (details) { details.open = true; row.scrollIntoView({block: "start"}); }
        }
      }).catch(function () { form.submit(); });  // let the server answer the plain way
    });
  }

  document.querySelectorAll("form.unit-form").forEach(wire);
  document.querySelectorAll("details[data-fragment]").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (!details.open || details.querySelector("form.unit-form")) { return; }
      fetch(details.getAttribute("data-fragment"), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          details.querySelectorAll(":scope > :not(summary)").forEach(function (node) { node.remove(); });
          while (holder.firstChild) { details.appendChild(holder.firstChild); }
          var form = details.querySelector("form.unit-form");
          if (form) { wire(form); }
        })
        .catch(function () {});
    });
  });
})();
