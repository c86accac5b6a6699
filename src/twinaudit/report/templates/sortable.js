(function () {
  "use strict";
  // Sort a table's body rows by one column. Cells may carry data-sort with the raw value, so
  // "12,345" and "2.38e-07" sort as the numbers they are, not as text.
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  // Written without the ampersand and less-than characters, so the page stays well-formed
  // XML (XHTML-compatible) without a CDATA section.
  function isNumeric(value) { return value !== "" ? isFinite(value) : false; }
  function compare(a, b) {
    var numeric = isNumeric(a) ? isNumeric(b) : false;
    return numeric ? Number(a) - Number(b) : a.localeCompare(b, undefined, {numeric: true});
  }
  function sortBy(table, index, header) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (first, second) {
      var order = compare(cellValue(first, index), cellValue(second, index));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    if (!table.tHead || table.tBodies.length !== 1) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      // A real button: reachable by keyboard, announced by screen readers.
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      button.title = "Sort by this column";
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, index, th); });
    });
  });
  // Closed details elements would not print; a printed report shows everything.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.setAttribute("open", "open"); });
  });
})();
