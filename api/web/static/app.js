// devia web UI: dialogs, streamed chat answers, document upload. No inline scripts (CSP).
"use strict";

function csrfToken() {
  const raw = document.body.getAttribute("hx-headers");
  try { return raw ? JSON.parse(raw)["X-CSRF-Token"] : ""; } catch (e) { return ""; }
}

function wireDialogs(root) {
  root.querySelectorAll("[data-open-dialog]").forEach((button) => {
    button.addEventListener("click", () => {
      const dialog = document.getElementById(button.dataset.openDialog);
      if (dialog) { dialog.showModal(); }
    });
  });
  root.querySelectorAll("[data-close-dialog]").forEach((button) => {
    button.addEventListener("click", () => {
      const dialog = document.getElementById(button.dataset.closeDialog);
      if (dialog) { dialog.close(); }
    });
  });
  root.querySelectorAll("dialog[data-autoopen]").forEach((dialog) => dialog.showModal());
}

// Answers stream as server-sent events; text is written with textContent, never as HTML.
function startStreams(root) {
  root.querySelectorAll("[data-stream]:not([data-started])").forEach((box) => {
    box.dataset.started = "true";
    const live = box.querySelector(".streaming");
    const source = new EventSource(box.dataset.stream);
    source.addEventListener("delta", (event) => {
      live.textContent += JSON.parse(event.data);
    });
    source.addEventListener("done", (event) => {
      box.innerHTML = JSON.parse(event.data);  // rendered and escaped by the server
      box.setAttribute("aria-busy", "false");
      box.dataset.done = "true";
      source.close();
    });
    source.addEventListener("failure", (event) => {
      const error = document.createElement("p");
      error.className = "error";
      error.textContent = JSON.parse(event.data);
      box.appendChild(error);
      box.setAttribute("aria-busy", "false");
      box.dataset.done = "true";
      source.close();
    });
    source.onerror = () => {
      if (box.dataset.done) { return; }
      source.close();
      const error = document.createElement("p");
      error.className = "error";
      error.textContent = "The connection to the server was lost; reload the page to see the answer.";
      box.appendChild(error);
      box.setAttribute("aria-busy", "false");
    };
  });
}

function wireUpload() {
  const form = document.getElementById("upload-form");
  if (!form) { return; }
  const status = document.getElementById("upload-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) { status.textContent = "Choose a file first."; return; }
    if (file.size > Number(form.dataset.maxBytes)) {
      status.textContent = "The file is larger than the upload limit.";
      return;
    }
    const params = new URLSearchParams({ site: form.elements.site.value, filename: file.name });
    if (form.elements.doc_type.value) { params.set("doc_type", form.elements.doc_type.value); }
    status.textContent = "Uploading " + file.name + "…";
    try {
      const response = await fetch("/api/v1/documents?" + params.toString(), {
        method: "POST",
        body: file,
        headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrfToken() },
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        status.textContent = "Upload refused: " + (body.detail || response.statusText);
        return;
      }
      status.textContent = "Uploaded " + body.filename + " (" + body.status + ").";
      window.setTimeout(() => window.location.reload(), 800);
    } catch (e) {
      status.textContent = "Upload failed: the server could not be reached.";
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  wireDialogs(document);
  startStreams(document);
  wireUpload();
  document.body.addEventListener("htmx:afterSwap", (event) => {
    startStreams(event.detail.target);
    if (event.detail.target.id === "source-panel") {
      const heading = event.detail.target.querySelector("h3");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    }
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (event.detail.successful && form.dataset && form.dataset.resetAfter) { form.reset(); }
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    let message = "The server refused the request.";
    try { message = JSON.parse(event.detail.xhr.responseText).detail || message; } catch (e) { /* not JSON */ }
    const target = event.detail.target;
    const error = document.createElement("p");
    error.className = "error";
    error.setAttribute("role", "alert");
    error.textContent = message;
    target.appendChild(error);
  });
});
