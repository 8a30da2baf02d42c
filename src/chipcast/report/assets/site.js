// chipcast report: sorting and filtering of tables. Vanilla JS, no dependencies, works from file://.
(function () {
  "use strict";

  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim() : v;
  }

  function compare(type) {
    return function (a, b) {
      if (type === "num") {
        var x = parseFloat(a), y = parseFloat(b);
        x = isNaN(x) ? -Infinity : x; y = isNaN(y) ? -Infinity : y;
        return x - y;
      }
      return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
    };
  }

  function sortBy(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var index = headers.indexOf(th);
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    headers.forEach(function (h) { if (h.hasAttribute("aria-sort")) h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", dir);
    var cmp = compare(th.getAttribute("data-type") || "text");
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.forEach(function (r, i) { r._pos = i; });
    rows.sort(function (a, b) {
      var c = cmp(cellKey(a, index), cellKey(b, index));
      if (dir === "descending") c = -c;
      return c || a._pos - b._pos;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("thead th[data-type]"), function (th) {
      var button = th.querySelector("button") || th;
      button.addEventListener("click", function () { sortBy(table, th); });
    });
  });

  var tag = document.getElementById("filter-tag");
  var status = document.getElementById("filter-status");
  var table = document.getElementById("claims");
  var count = document.getElementById("shown-count");
  function applyFilter() {
    if (!table) return;
    var t = tag ? tag.value : "", s = status ? status.value : "";
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var tags = (rows[i].getAttribute("data-tags") || "").split(" ");
      var ok = (!t || tags.indexOf(t) >= 0) && (!s || rows[i].getAttribute("data-status") === s);
      rows[i].hidden = !ok;
      if (ok) shown++;
    }
    if (count) count.textContent = shown + " of " + rows.length + " claims";
  }
  if (tag) tag.addEventListener("change", applyFilter);
  if (status) status.addEventListener("change", applyFilter);
})();
