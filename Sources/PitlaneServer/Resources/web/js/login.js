// The sign-in page: posts the name and password, then goes where the visitor was headed (a path of this site only).
const form = document.getElementById("signin");
const message = document.getElementById("message");
const submit = document.getElementById("submit");
const params = new URLSearchParams(location.search);
const next = params.get("next");
/// Where to go after signing in: a page of this site only. Parsed as the browser will parse it (which drops
/// tabs and line breaks and reads a backslash as "/"), so "/\t/evil.example" cannot leave the site.
function localTarget(value) {
  if (!value) return "/";
  try {
    const url = new URL(value, location.origin);
    // "/.//evil.example" resolves on this origin to the path "//evil.example", which assign() would read
    // as another host: a path must not start with two slashes either.
    return url.origin === location.origin && !url.pathname.startsWith("//") ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
}
const target = localTarget(next);
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
    message.textContent = body.error?.message || `Sign-in failed (${response.status})`;
    form.password.select();
  } catch (error) {
    message.textContent = `Pitlane cannot be reached: ${error.message}`;
  } finally {
    submit.disabled = false;
  }
});
