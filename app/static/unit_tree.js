// The unit tree's move controls (templates/officers/unit_tree.html): each <select> is sent with
// one option, the unit's current parent; the page's list of units (<template id="unit-choices">)
// is copied into a control when it comes into view or is used — all but the unit itself, the
// current parent kept selected.
(function () {
  function fill(sel) {
    if (sel.getAttribute("data-filled")) { return; }
    sel.setAttribute("data-filled", "1");
    var tpl = document.getElementById(sel.getAttribute("data-choices"));
    if (!tpl) { return; }
    var keep = sel.value, self = sel.getAttribute("data-self");
    var frag = document.createDocumentFragment();
    tpl.content.querySelectorAll("option").forEach(function (o) {
      if (o.value !== self) { frag.appendChild(o.cloneNode(true)); }
    });
    sel.textContent = "";
    sel.appendChild(frag);
    sel.value = keep;
    if (sel.value !== keep) { sel.selectedIndex = 0; }
  }
  function init() {
    var selects = document.querySelectorAll("select[data-choices]");
    if ("IntersectionObserver" in window) {
      var seen = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (e.isIntersecting) { fill(e.target); seen.unobserve(e.target); }
        });
      }, { rootMargin: "200px" });
      selects.forEach(function (sel) { seen.observe(sel); });
    } else {
      selects.forEach(fill);
    }
    ["focusin", "mousedown", "keydown", "touchstart"].forEach(function (type) {
      document.addEventListener(type, function (ev) {
        var sel = ev.target && ev.target.closest && ev.target.closest("select[data-choices]");
        if (sel) { fill(sel); }
      }, true);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
