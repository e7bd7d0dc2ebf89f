// The media library: "Copy" buttons for each image's Markdown, and the focus on cards that
// htmx puts in place (the next page of images, a description saved or left). The buttons'
// words after copying come from the page (data-copied, data-copy-failed), in its language.
"use strict";

document.addEventListener("htmx:load", (event) => {
  const added = event.detail.elt;
  for (const button of added.querySelectorAll("button[data-copy]")) {
    button.hidden = !navigator.clipboard;
  }
  if (added.matches("[data-focus]")) {
    added.focus();
  }
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) {
    return;
  }
  const field = document.getElementById(button.dataset.copy);
  const label = button.firstChild;
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    label.textContent = button.dataset.copied;
  } catch {
    label.textContent = button.dataset.copyFailed;
  }
});
