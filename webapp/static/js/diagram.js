/* The process diagram: bpmn-js draws the stored BPMN file and marks completed, current and late steps, with a badge of
   open (and late) tasks per step. Everything it shows is also in the page's HTML tables, so the page works without it. */
(function () {
  "use strict";

  document.querySelectorAll("[data-diagram]").forEach(function (box) {
    var data = JSON.parse(document.getElementById(box.getAttribute("data-marks")).textContent);

    function fail() {
      box.setAttribute("data-diagram-state", "error");
      var message = document.createElement("p");
      message.className = "muted";
      message.textContent = box.getAttribute("data-error");
      box.replaceChildren(message);
    }

    function badge(count, late, title) {
      var element = document.createElement("span");
      element.className = "step-badge" + (late ? " late" : "");
      element.textContent = String(count);
      element.title = title;
      return element;
    }

    if (typeof window.BpmnJS !== "function") { fail(); return; }
    var viewer = new window.BpmnJS({ container: box });
    fetch(box.getAttribute("data-xml-url"), { credentials: "same-origin", headers: { Accept: "application/xml" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        var overlays = viewer.get("overlays");
        canvas.zoom("fit-viewport");
        Object.keys(data.marks).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, "step-" + data.marks[id]); }
        });
        // The page gives each label in the singular ("-one") and the plural, as the language needs them.
        var counted = function (n, label) {
          return n + " " + box.getAttribute(n === 1 ? label + "-one" : label);
        };
        Object.keys(data.counts).forEach(function (id) {
          if (!registry.get(id)) { return; }
          var counts = data.counts[id];
          var holder = document.createElement("div");
          holder.className = "step-badges";
          holder.appendChild(badge(counts.open, false, counted(counts.open, "data-open-label")));
          if (counts.late) {
            holder.appendChild(badge(counts.late, true, counted(counts.late, "data-late-label")));
          }
          overlays.add(id, "step-count", { position: { top: -12, right: 12 }, html: holder });
        });
        box.setAttribute("data-diagram-state", "ready");
      })
      .catch(fail);
  });
})();
