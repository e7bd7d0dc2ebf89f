// The autosave status line after a failed try (no connection, or an error page). htmx swaps
// nothing then, which would leave an earlier "Draft copy kept" standing for newer text.
"use strict";

for (const name of ["htmx:sendError", "htmx:responseError"]) {
  document.addEventListener(name, (event) => {
    const line = event.detail.elt;
    if (line.id !== "autosave-status") {
      return;
    }
    const message = line.querySelector(".autosave-status__failed").content.cloneNode(true);
    line.querySelector(".autosave-status__text").replaceChildren(message);
  });
}

// Text typed in the seconds before the page goes away (a closed tab, a link followed) is sent
// as it goes, unless the form itself is being submitted.
const statusLine = document.getElementById("autosave-status");
if (statusLine) {
  const form = statusLine.closest("form");
  let unsent = false;
  form.addEventListener("input", () => {
    unsent = true;
  });
  form.addEventListener("submit", () => {
    unsent = false;
  });
  statusLine.addEventListener("htmx:beforeRequest", () => {
    unsent = false;
  });
  window.addEventListener("pagehide", () => {
    if (!unsent) {
      return;
    }
    const data = new FormData(form);
    data.delete("hero_image");
    for (const [name, value] of Object.entries(JSON.parse(statusLine.getAttribute("hx-vals")))) {
      data.set(name, value);
    }
    navigator.sendBeacon(statusLine.getAttribute("hx-post"), data);
  });
}
