// Live parts of the console: an element with data-live="URL" is refreshed from that server-sent
// event stream. The server sends HTML it rendered (and escaped) itself; nothing here builds markup
// from citizen text.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-live]").forEach(function (element) {
    var source = new EventSource(element.getAttribute("data-live"));
    source.addEventListener("update", function (event) {
      var data = JSON.parse(event.data);
      element.innerHTML = data.html;
      var list = element.querySelector("ol.transcript");
      if (list) { list.scrollTop = list.scrollHeight; }
      element.setAttribute("data-version", data.version);
    });
  });
  var list = document.querySelector("ol.transcript");
  if (list) { list.scrollTop = list.scrollHeight; }
});
