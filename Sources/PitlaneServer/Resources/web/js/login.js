// The sign-in page: posts the name and password, then goes where the visitor was headed (a path of this site only).
const form = document.getElementById("signin");
const message = document.getElementById("message");
const submit = document.getElementById("submit");
const params = new URLSearchParams(location.search);
const next = params.get("next");
const target = next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
form.action = `/api/login?next=${encodeURIComponent(target)}`;

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  submit.disabled = true;
  message.textContent = "Signing in…";
  try {
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ name: form.name.value, password: form.password.value }),
    });
    if (response.ok) {
      location.assign(target);
      return;
    }
    const body = await response.json().catch(() => ({}));
    message.textContent = body.error || `Sign-in failed (${response.status})`;
    form.password.select();
  } catch (error) {
    message.textContent = `Pitlane cannot be reached: ${error.message}`;
  } finally {
    submit.disabled = false;
  }
});
