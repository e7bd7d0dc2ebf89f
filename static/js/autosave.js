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
