// The few behaviours plain HTML lacks: the phone menu button and "select all rows" of a list.
// Everything works without this file; it only saves clicks.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.closest(".topbar").classList.toggle("nav-open", open);
    }
  });
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (all) {
      var table = all.closest("table");
      table.querySelectorAll('tbody input[type="checkbox"][name="ids"]').forEach(function (box) {
        box.checked = all.checked;
      });
    }
  });
  // A list's filter form sends only the filters in use, so the URL it leaves in the address bar
  // (and in bookmarks) says exactly what is filtered.
  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    if (detail.verb !== "get" || !detail.elt.closest("form.filters")) { return; }
    Object.keys(detail.parameters).forEach(function (key) {
      if (detail.parameters[key] === "") { delete detail.parameters[key]; }
    });
  });
})();
