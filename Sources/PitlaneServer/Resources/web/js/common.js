// Shared helpers for the pages: fetching the API, formatting times, the navigation bar.

export async function api(path, options = {}) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: { code: "not_json", message: text } }; }
  if (response.status === 401 && !path.startsWith("/api/login")) {
    // Signed out (or the session expired): back to the sign-in page, then here again.
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!response.ok) {
    const error = new Error(body?.error?.message || `${path} answered ${response.status}`);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/// "Fri 27 Nov, 14:30" in the viewer's time zone (or another zone).
export function formatTime(iso, timeZone = viewerZone, allDay = false) {
  const options = allDay
    ? { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }
    : { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false, timeZone };
  return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
}

export function formatClock(iso, timeZone) {
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone }).format(new Date(iso));
}

export function countdown(milliseconds) {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const days = Math.floor(total / 86400), hours = Math.floor(total % 86400 / 3600);
  const minutes = Math.floor(total % 3600 / 60), seconds = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return (days > 0 ? `${days}d ` : "") + `${two(hours)}:${two(minutes)}:${two(seconds)}`;
}

let mePromise = null;

/// Who is signed in: `{auth: "none"}` without accounts, else `{auth: "password", name, playbackPrefix, playlistURL}`.
export function me() {
  mePromise ??= api("/api/me").catch(() => ({ auth: "none" }));
  return mePromise;
}

/// A URL a player without cookies can open: with accounts, the path carries the user's playback token.
export async function playerURL(path) {
  const account = await me();
  return location.origin + (account.playbackPrefix ?? "") + path;
}

/// Copies `text`, saying so on `button` (the Clipboard API needs a secure context: else a prompt to copy by hand).
export async function copyText(text, button) {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied ✓";
  } catch {
    window.prompt("Copy this link:", text);
  }
  setTimeout(() => { button.textContent = label; }, 2000);
}

export async function signOut() {
  await fetch("/api/logout", { method: "POST" });
  location.assign("/login");
}

export function navigation(current) {
  const link = (href, label) => el("a", { href, "aria-current": current === href ? "page" : null }, label);
  const account = el("div", { class: "account" });
  me().then((who) => {
    if (who.auth !== "password" || !who.name) return;
    account.replaceChildren(
      el("span", { class: "muted" }, "Signed in as ", el("strong", {}, who.name)),
      link("/settings", "Settings"),
      el("button", { onclick: signOut }, "Sign out"));
  });
  return el("header", { class: "top" },
    el("a", { class: "brand", href: "/" }, "PITLANE"),
    el("nav", { "aria-label": "Main" }, link("/", "Calendar"), link("/streams", "Streams"), link("/watch", "Watch")),
    account);
}

export { viewerZone };
