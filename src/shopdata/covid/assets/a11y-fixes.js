/*
 * Dash 4's DatePickerRange puts aria-expanded and aria-haspopup on the <div> that wraps its two
 * date inputs; ARIA allows neither on a div without a role (axe: aria-allowed-attr, critical),
 * and its aria-labelledby names "undefined" ids. The inputs are the real controls (the calendar
 * opens on focus), so the wrapper becomes a group named by the "Dates" label. The calendar's
 * year field has no label either (axe: label, critical): it is named "Year". Re-applied
 * whenever React re-renders.
 */
(function () {
  function fix(root) {
    root.querySelectorAll(".dash-datepicker-content input[type=number]").forEach(function (year) {
      if (!year.hasAttribute("aria-label")) {
        year.setAttribute("aria-label", "Year");
      }
    });
    root.querySelectorAll(".dash-datepicker-input-wrapper").forEach(function (wrapper) {
      if (wrapper.getAttribute("role") !== "group") {
        wrapper.setAttribute("role", "group");
      }
      ["aria-expanded", "aria-haspopup", "type"].forEach(function (name) {
        if (wrapper.hasAttribute(name)) {
          wrapper.removeAttribute(name);
        }
      });
      var label = document.getElementById(wrapper.id.replace(/-wrapper$/, "") + "-label");
      if (label && wrapper.getAttribute("aria-labelledby") !== label.id) {
        wrapper.setAttribute("aria-labelledby", label.id);
      }
    });
  }
  var observer = new MutationObserver(function () {
    fix(document);
  });
  function start() {
    fix(document);
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["aria-expanded", "aria-haspopup", "aria-labelledby", "role"],
    });
  }
  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
