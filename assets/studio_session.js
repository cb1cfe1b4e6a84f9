// Sign-in, sign-up and sign-out over HTTP, so that the server sets (and clears) the
// HttpOnly session cookie. A form marked `data-studio-session="/auth/..."` posts its
// fields as JSON; a button marked `data-studio-signout` ("everywhere" for all
// sessions) signs out. On success the next page is loaded in full, so its websocket
// carries the new cookie; on failure the message goes into the form's
// `[data-studio-session-error]` element and the field it names is marked.
(() => {
  const UNREACHABLE = "Studio could not be reached. Check your connection and try again.";

  async function post(path, body) {
    try {
      const response = await fetch(path, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const data = await response.json().catch(() => ({}));
      return { ok: response.ok, data };
    } catch (error) {
      return { ok: false, data: { message: UNREACHABLE } };
    }
  }

  function showError(form, data) {
    const box = form.querySelector("[data-studio-session-error]");
    const text = form.querySelector("[data-studio-session-error-text]");
    if (box && text) {
      text.textContent = data.message || "Something went wrong. Try again.";
      // An inline style React does not own: a later render of the page keeps it.
      box.style.setProperty("display", "grid", "important");
    }
    for (const input of form.querySelectorAll("input")) {
      input.removeAttribute("aria-invalid");
    }
    const field = data.field && form.querySelector(`[name="${CSS.escape(data.field)}"]`);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest && event.target.closest("form[data-studio-session]");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    const body = Object.fromEntries(new FormData(form).entries());
    body.next = new URLSearchParams(window.location.search).get("next") || "";
    const { ok, data } = await post(form.dataset.studioSession, body);
    if (ok) {
      window.location.assign(data.next || "/studio");
      return;
    }
    if (button) button.disabled = false;
    showError(form, data);
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest("[data-studio-signout]");
    if (!button) return;
    event.preventDefault();
    button.disabled = true;
    const everywhere = button.dataset.studioSignout === "everywhere";
    const { ok, data } = await post("/auth/signout", { everywhere });
    if (ok || data.code === "unauthorized") {
      // Signed out now, or the session had already ended: the sign-in page is next.
      window.location.assign(data.next || "/login");
      return;
    }
    button.disabled = false;
    window.alert(data.message || UNREACHABLE);
  });
})();
