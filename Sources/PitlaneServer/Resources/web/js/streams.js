// The streams page: the ranked catalogue grouped by source, with health and token state.
import { api, copyText, el, formatTime, navigation, playerURL } from "./common.js";
import { addToMultiView } from "./state.js";

const main = document.getElementById("main");
document.body.prepend(navigation("/streams"));

function latencyClass(health) {
  if (!health) return "";
  if (!health.playable) return "bad";
  return health.latencyMs < 1500 ? "ok" : health.latencyMs < 4000 ? "warn" : "bad";
}

function card(stream) {
  const health = stream.health;
  const refresh = stream.refresh || {};
  const state = health == null ? "not checked yet" : health.playable ? `${health.latencyMs} ms start-up` : `does not play: ${health.error}`;
  const left = refresh.expiresAt ? Math.round((new Date(refresh.expiresAt) - Date.now()) / 1000) : null;
  const expires = left === null ? "no token expiry known" : left > 0 ? `token expires in ${left < 120 ? `${left} s` : `${Math.round(left / 60)} min`}` : "token expired (refreshed when watched)";
  return el("article", { class: "card stream", "data-id": stream.id },
    el("h3", {}, stream.title, " ", el("span", { class: "muted" }, stream.quality || "")),
    el("div", {}, el("span", { class: `dot ${latencyClass(health)}` }), state),
    health?.playable ? el("div", { class: "muted" },
      [health.bandwidth ? `${(health.bandwidth / 1e6).toFixed(1)} Mb/s` : null, health.resolutions?.[0], health.live ? "live" : "recording",
       `checked ${formatTime(health.checkedAt)}`].filter(Boolean).join(" · ")) : null,
    el("div", { class: "muted" }, `${expires} · refreshed ${refresh.count ?? 0}×`, refresh.lastError ? ` · ${refresh.lastError}` : ""),
    el("div", { class: "actions" },
      el("a", { class: "button primary", href: `/watch?layout=1&tiles=${encodeURIComponent(stream.id)}&once=1` }, "Watch"),
      el("button", { onclick: (event) => { addToMultiView(stream.id); event.target.textContent = "Added ✓"; } }, "Add to multi-view"),
      el("button", { title: "A link for VLC, mpv or Kodi", onclick: async (event) => copyText(await playerURL(`/hls/${encodeURIComponent(stream.id)}/master.m3u8`), event.target) }, "Copy link")));
}

/// A feed: one picture that several streams carry; Pitlane plays the best and fails over inside the stream.
function feedCard(feed) {
  const health = feed.memberHealth || {};
  return el("article", { class: "card feed", "data-id": feed.id },
    el("h3", {}, feed.title, " ", el("span", { class: "muted" }, feed.quality || "")),
    el("ol", {}, feed.members.map((member) => {
      const seen = health[member.id];
      const note = seen && seen.lastFailure && !seen.healthySince ? ` · failing (${(seen.lastReason || "").replaceAll("_", " ")})` : "";
      return el("li", { class: member.id === feed.current ? "playing" : "" },
        `${member.title} — ${member.source}`, member.id === feed.current ? " · playing" : "", note);
    })),
    feed.switches.length ? el("div", { class: "muted" },
      `switched ${feed.switches.length}× · last ${formatTime(feed.switches[0].at)} (${feed.switches[0].reason.replaceAll("_", " ")})`) : null,
    el("div", { class: "actions" },
      el("a", { class: "button primary", href: `/watch?layout=1&tiles=${encodeURIComponent(feed.id)}&once=1` }, "Watch"),
      el("button", { onclick: (event) => { addToMultiView(feed.id); event.target.textContent = "Added ✓"; } }, "Add to multi-view"),
      el("button", { title: "A link for VLC, mpv or Kodi: it fails over between the feed's streams", onclick: async (event) => copyText(await playerURL(`/hls/${encodeURIComponent(feed.id)}/master.m3u8`), event.target) }, "Copy link")));
}

async function render() {
  const [{ streams }, { feeds }] = await Promise.all([api("/api/streams?detail=1"), api("/api/feeds")]);
  const shared = feeds.filter((feed) => feed.members.length > 1);
  const feedSection = shared.length ? [el("section", { class: "group" }, el("h2", {}, "Feeds"),
    el("p", { class: "muted" }, "One picture from several sources: Pitlane plays the best and switches inside the stream when it fails."),
    el("div", { class: "cards" }, shared.map(feedCard)))] : [];
  const groups = new Map();
  for (const stream of streams) {
    if (!groups.has(stream.source)) groups.set(stream.source, []);
    groups.get(stream.source).push(stream);
  }
  const list = [...groups].map(([source, items]) =>
    el("section", { class: "group" }, el("h2", {}, `Source: ${source}`), el("div", { class: "cards" }, items.map(card))));
  return list.length ? [...feedSection, ...list] : [el("p", { class: "muted" }, "No streams yet: sources are still being read.")];
}

const status = el("span", { class: "muted", role: "status" });
const refreshButton = el("button", { class: "primary", onclick: refresh }, "Look for streams now");

async function refresh() {
  refreshButton.disabled = true;
  status.textContent = "Running every source and checking every stream…";
  const started = Date.now();
  try {
    const { sources } = await api("/api/extract", { method: "POST" });
    const failed = sources.filter((source) => source.enabled && source.lastError);
    status.textContent = `Done in ${((Date.now() - started) / 1000).toFixed(1)} s` + (failed.length ? ` — ${failed.length} source(s) failed: ${failed.map((s) => `${s.id} (${s.lastError})`).join(", ")}` : "");
    await show();
  } catch (error) {
    status.textContent = `Refresh failed: ${error.message}`;
  } finally {
    refreshButton.disabled = false;
  }
}

const body = el("div", { id: "streams" });
async function show() {
  try {
    body.replaceChildren(...await render());
  } catch (error) {
    body.replaceChildren(el("p", { role: "alert" }, `The streams could not be loaded: ${error.message}`));
  }
}

main.replaceChildren(el("div", { class: "toolbar" }, el("h1", { class: "page-title" }, "Streams"), refreshButton,
  el("button", { title: "Every stream as an M3U playlist, for VLC, Kodi or Jellyfin", onclick: async (event) => copyText(await playerURL("/playlist.m3u"), event.target) }, "Copy M3U link"), status), body);
show();
setInterval(show, 30000);
