// The book's own script (registered in _config.yml): tables printed without lib.book.tables (plain pandas
// frames, Styler output) get the classes that tables.show writes itself, so numbers are right-aligned and never
// broken, and text is left-aligned and wraps (book/_static/srl.css).
document.addEventListener("DOMContentLoaded", function () {
  var number = /^(?:[+\-−]?(?:\d[\d,]*\.?\d*|\.\d+)(?:e[+\-−]?\d+)?\s*%?|[—–-]|nan|)$/i;
  document.querySelectorAll(".cell_output table td").forEach(function (td) {
    if (td.classList.contains("num") || td.classList.contains("text")) return;
    td.classList.add(number.test(td.textContent.trim()) ? "num" : "text");
  });
  // a column header sits over its column: left over text, right over numbers
  document.querySelectorAll(".cell_output table").forEach(function (table) {
    var first = table.querySelector("tbody tr");
    if (!first) return;
    table.querySelectorAll("thead tr").forEach(function (row) {
      Array.prototype.forEach.call(row.cells, function (th) {
        var below = first.cells[th.cellIndex];
        if (below && below.tagName === "TD" && below.classList.contains("text")) th.classList.add("text");
      });
    });
  });
});
