// Order board: drag a card onto a column to move it. The move is posted like the card's
// buttons; the server's transition table decides and the page says why a move was refused.
(function () {
  "use strict";
  function columns() { return document.querySelectorAll(".board-col[data-drop]"); }
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card");
    if (!card) { return; }
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.order);
    var allowed = (card.dataset.targets || "").split(" ");
    columns().forEach(function (col) {
      if (col.dataset.drop === card.dataset.column) { return; }
      col.classList.add(allowed.indexOf(col.dataset.drop) >= 0 ? "drop-allowed" : "drop-forbidden");
    });
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    columns().forEach(function (col) { col.classList.remove("drop-allowed", "drop-forbidden"); });
  });
  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest && event.target.closest(".board-col[data-drop]")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });
  document.addEventListener("drop", function (event) {
    var col = event.target.closest && event.target.closest(".board-col[data-drop]");
    if (!dragged || !col) { return; }
    event.preventDefault();
    var card = dragged;
    dragged = null;
    if (col.dataset.drop === card.dataset.column) { return; }
    var form = card.querySelector("form.board-move");
    if (!form) {
      // No moves at all for this role: post one anyway so the server says why.
      form = document.createElement("form");
      form.method = "post";
      form.action = "/orders/board/" + card.dataset.order + "/move";
      var token = document.querySelector('meta[name="csrf-token"]');
      var csrf = document.createElement("input");
      csrf.type = "hidden"; csrf.name = "csrf_token"; csrf.value = token ? token.content : "";
      form.appendChild(csrf);
      var to = document.createElement("input");
      to.type = "hidden"; to.name = "to"; to.setAttribute("data-drop-to", "");
      form.appendChild(to);
      document.body.appendChild(form);
    }
    var target = form.querySelector("[data-drop-to]");
    target.disabled = false;
    target.value = col.dataset.drop;
    form.submit();
  });
}());
