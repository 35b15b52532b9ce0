// The settings page: who is signed in, and the playback link for players that cannot sign in.
import { api, copyText, el, me, navigation, signOut } from "./common.js";

const main = document.getElementById("main");
document.body.prepend(navigation("/settings"));

function render(account) {
  if (account.auth !== "password") {
    return [el("section", {}, el("h2", {}, "Accounts are off"),
      el("p", { class: "muted" }, "This Pitlane runs with auth.mode: none: anyone who reaches it can use it. Players open /playlist.m3u as it is."))];
  }
  const link = location.origin + account.playlistURL;
  const field = el("input", { readonly: true, value: link, "aria-label": "Playlist link for players", id: "playback-link" });
  const status = el("span", { class: "muted", role: "status" });
  const reset = el("button", {
    onclick: async () => {
      if (!confirm("Make a new playback link? Every player using the old one stops.")) return;
      const fresh = await api("/api/me/playback-token", { method: "POST" });
      field.value = location.origin + fresh.playlistURL;
      status.textContent = "New link made; the old one no longer works.";
    },
  }, "Make a new link");
  return [
    el("h1", { class: "page-title" }, "Settings"),
    el("section", {}, el("h2", {}, "Account"), el("p", {}, "Signed in as ", el("strong", {}, account.name)),
      el("button", { onclick: signOut }, "Sign out")),
    el("section", {}, el("h2", {}, "Players (VLC, mpv, Kodi, Jellyfin)"),
      el("p", { class: "muted" }, "Players cannot sign in: this link carries your playback token. Anyone with it can watch, so share it only with your own devices."),
      el("div", { class: "row" }, field, el("button", { class: "primary", onclick: (event) => copyText(field.value, event.target) }, "Copy"), reset),
      status),
  ];
}

me().then((account) => main.replaceChildren(...render(account)))
  .catch((error) => main.replaceChildren(el("p", { role: "alert" }, `Settings could not be loaded: ${error.message}`)));
