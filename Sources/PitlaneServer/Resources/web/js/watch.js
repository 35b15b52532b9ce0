// The multi-view: up to four tiles, five layouts, one audible tile, keyboard control, recovery.
// Tiles are keyed by their own identity, never by list position: positions are CSS grid areas, so a swap
// or a layout change never re-creates (or reloads) a player.
import { api, el, navigation } from "./common.js";
import { hlsReady, Player } from "./player.js";
import { defaultLayout, LAYOUTS, load, save } from "./state.js";

const main = document.getElementById("main");
document.body.prepend(navigation("/watch"));

const saved = load();
const state = { layout: saved.layout, autoSwitch: saved.autoSwitch, volumes: saved.volumes };
let catalogue = [];
let tiles = [];  // [{key, stream, element, video, player, ...}] in position order
let focusedKey = null;
let nextKey = 1;

const grid = el("div", { class: "grid", id: "grid", role: "region", "aria-label": "Players" });
// On a phone only the main tile shows; the others are listed under it, a tap away.
const phoneList = el("nav", { class: "phone-list", "aria-label": "Other tiles" });
const layoutButtons = Object.keys(LAYOUTS).map((name) =>
  el("button", { "data-layout": name, "aria-pressed": "false", title: `Layout ${name}`, onclick: () => setLayout(name) }, name.replace("x", "×")));
const addSelect = el("select", { "aria-label": "Add a stream", onchange: (event) => {
  const id = event.target.value;
  event.target.value = "";
  event.target.blur();  // the keys work again at once
  if (id) addFromPicker(id);
} });
const toolbarStatus = el("span", { class: "muted", role: "status" });
const autoSwitch = el("input", { type: "checkbox", id: "auto-switch", onchange: (event) => { state.autoSwitch = event.target.checked; persist(); } });
autoSwitch.checked = state.autoSwitch;

main.replaceChildren(
  el("div", { class: "toolbar" },
    el("div", { class: "layouts", role: "group", "aria-label": "Layout" }, layoutButtons),
    addSelect, toolbarStatus,
    el("label", { class: "muted" }, autoSwitch, " switch to the next-best stream when one fails"),
    el("span", { class: "keys" }, el("kbd", {}, "Space"), " play/pause · ", el("kbd", {}, "1–4"), " audio · ", el("kbd", {}, "M"), " mute · ",
      el("kbd", {}, "F"), " fullscreen · ", el("kbd", {}, "L"), " live · ", el("kbd", {}, "S"), " sync · ", el("kbd", {}, "["), el("kbd", {}, "]"), " nudge")),
  grid, phoneList);

function persist() {
  save({ layout: state.layout, tiles: tiles.map((tile) => tile.stream), autoSwitch: state.autoSwitch, volumes: state.volumes }, saved.once);
}

/// "+ Add stream": a stream already on screen is focused, not added twice; the layout grows to show every
/// tile (as the Streams page's "Add to multi-view" does); a fifth is refused with a word, never swapped in.
function addFromPicker(id) {
  const existing = tiles.find((tile) => tile.stream === id);
  if (existing) {
    focusTile(existing.key);
    toolbarStatus.textContent = "Already on screen.";
    return;
  }
  if (tiles.length >= 4) {
    toolbarStatus.textContent = "Four tiles at most: remove one to add another.";
    return;
  }
  toolbarStatus.textContent = "";
  addTile(id);
  if (tiles.length > capacity()) setLayout(defaultLayout(tiles.length));
}

function streamInfo(id) {
  return catalogue.find((stream) => stream.id === id);
}

function capacity() {
  return LAYOUTS[state.layout];
}

function arrange() {
  grid.className = `grid l${state.layout.replace("+", "p")}`;
  for (const button of layoutButtons) button.setAttribute("aria-pressed", String(button.dataset.layout === state.layout));
  tiles.forEach((tile, position) => {
    tile.element.style.gridArea = `p${position}`;
    tile.element.classList.toggle("hidden", position >= capacity());
    tile.element.dataset.position = String(position + 1);
    tile.mainButton.disabled = position === 0;
  });
  if (!tiles.some((tile) => tile.key === focusedKey)) focusedKey = tiles[0]?.key ?? null;
  applyAudio();
  phoneList.replaceChildren(...tiles.slice(1).map((tile) =>
    el("button", { class: "phone-item", onclick: () => { swapToMain(tile.key); focusTile(tile.key); } }, `▶ ${tile.name.textContent}`)));
  grid.classList.toggle("empty", tiles.length === 0);
  if (tiles.length === 0) grid.replaceChildren(el("p", {}, "No stream yet: add one above, or from the Streams page."));
  else grid.querySelector(":scope > p")?.remove();
  persist();
}

/// Exactly one tile is audible: the focused one, at its own volume.
function applyAudio() {
  for (const tile of tiles) {
    const focused = tile.key === focusedKey;
    tile.element.classList.toggle("focused", focused);
    tile.video.muted = !focused || tile.userMuted;
    tile.player.setCapped(!focused && tiles.length > 1);
    tile.video.volume = state.volumes[tile.stream] ?? 1;
    tile.focusButton.textContent = focused && !tile.userMuted ? "♪ on" : "♪ off";
    tile.focusButton.setAttribute("aria-pressed", String(focused));
  }
}

function focusTile(key) {
  focusedKey = key;
  applyAudio();
}

function setLayout(name) {
  state.layout = name;
  arrange();
}

function optionList(selected) {
  return catalogue.map((stream) => el("option", { value: stream.id, selected: stream.id === selected }, `${stream.title}${stream.quality ? ` (${stream.quality})` : ""} — ${stream.source}`));
}

function addTile(streamID) {
  if (tiles.length >= 4) tiles.at(-1) && removeTile(tiles.at(-1).key);
  const key = `t${nextKey++}`;
  const video = el("video", { playsinline: true, muted: true, autoplay: true, "aria-label": "Video" });
  video.muted = true;
  const name = el("span", { class: "name" });
  const engine = el("span", { class: "badge engine" });
  const latency = el("span", { class: "muted latency" });
  const via = el("span", { class: "muted via" });
  const notice = el("div", { class: "notice", role: "status" });
  const message = el("div", { class: "message", role: "alert" });
  const focusButton = el("button", { class: "focus", title: "Listen to this tile", onclick: () => focusTile(key) }, "♪ off");
  const volume = el("input", { type: "range", min: "0", max: "1", step: "0.05", "aria-label": "Volume", onchange: (event) => event.target.blur(), oninput: (event) => {
    const tile = tiles.find((t) => t.key === key);
    state.volumes[tile.stream] = Number(event.target.value);
    applyAudio();
    persist();
  } });
  const mainButton = el("button", { class: "swap", title: "Move to the main position", onclick: () => swapToMain(key) }, "⤢ Main");
  const select = el("select", { "aria-label": "Change stream", onchange: (event) => { event.target.blur(); changeStream(key, event.target.value); } });
  const remove = el("button", { class: "remove", title: "Remove this tile", onclick: () => removeTile(key) }, "✕");
  const element = el("div", { class: "tile", "data-tile": key, onclick: (event) => { if (event.target === video) focusTile(key); } },
    video, el("div", { class: "overlay" }, name, engine, latency, via), notice, message,
    el("div", { class: "controls" }, focusButton, volume, mainButton, select, remove));
  const tile = { key, stream: streamID, element, video, name, engine, latency, via, notice, message, focusButton, volume, mainButton, select, userMuted: false };
  tile.player = new Player(video, {
    onTrouble: (step) => recover(tile, step),
    onStatus: (text) => { if (text === "playing") hideMessage(tile); else showMessage(tile, text); },
  });
  tiles.push(tile);
  grid.append(element);
  startStream(tile, streamID);
  arrange();
  return tile;
}

function startStream(tile, streamID) {
  tile.stream = streamID;
  const info = streamInfo(streamID);
  tile.name.textContent = info ? info.title : streamID;
  tile.select.replaceChildren(...optionList(streamID));
  tile.volume.value = String(state.volumes[streamID] ?? 1);
  hideMessage(tile);
  tile.player.load(`/hls/${encodeURIComponent(streamID)}/master.m3u8`);
  tile.engine.textContent = tile.player.stats.engine === "hlsjs" ? `hls.js ${tile.player.stats.version}` : tile.player.stats.engine === "native" ? "native HLS" : "cannot play";
}

function changeStream(key, streamID) {
  const tile = tiles.find((t) => t.key === key);
  if (tile && streamID && streamID !== tile.stream) { startStream(tile, streamID); persist(); }
}

function swapToMain(key) {
  const index = tiles.findIndex((tile) => tile.key === key);
  if (index <= 0) return;
  [tiles[0], tiles[index]] = [tiles[index], tiles[0]];
  focusedKey = key;  // the sound goes with the picture to the main position
  arrange();
}

function removeTile(key) {
  const index = tiles.findIndex((tile) => tile.key === key);
  if (index < 0) return;
  tiles[index].player.destroy();
  tiles[index].element.remove();
  tiles.splice(index, 1);
  // No hole: a layout with room for more tiles than remain shrinks to fit them.
  if (tiles.length && tiles.length < capacity()) state.layout = defaultLayout(tiles.length);
  arrange();
}

function showMessage(tile, text, ...actions) {
  tile.message.replaceChildren(el("p", {}, text), ...actions);
  tile.message.classList.add("shown");
}

function hideMessage(tile) {
  tile.message.classList.remove("shown");
}

/// The player's ladder calls this: "reresolve" asks Pitlane to re-run the stream's source and reloads;
/// "failed" offers (or, with the setting, switches to) the next-best stream of the same title.
async function recover(tile, step) {
  if (step === "unsupported") {
    showMessage(tile, "This browser cannot play HLS, and hls.js is not installed (run scripts/fetch-hlsjs.py).");
    return;
  }
  if (step === "reresolve") {
    showMessage(tile, "Re-resolving the stream…");
    try {
      await api(`/api/streams/${encodeURIComponent(tile.stream)}/refresh`, { method: "POST" });
    } catch { /* the reload below tells whether it helped */ }
    tile.player.reload();
    return;
  }
  const current = streamInfo(tile.stream);
  // Another stream of the title (a feed is offered in the list, not here: it may be playing this one).
  const alternative = catalogue.find((stream) => !stream.feed && stream.id !== tile.stream && current && stream.title === current.title && stream.health?.playable !== false);
  if (alternative && state.autoSwitch) {
    startStream(tile, alternative.id);
    persist();
  } else if (alternative) {
    showMessage(tile, "This stream stopped playing.", el("button", { class: "primary next-best", onclick: () => { startStream(tile, alternative.id); persist(); } }, `Switch to ${alternative.title} (${alternative.source})`));
  } else {
    showMessage(tile, "This stream cannot be played right now.", el("button", { onclick: () => startStream(tile, tile.stream) }, "Try again"));
  }
}

function focused() {
  return tiles.find((tile) => tile.key === focusedKey);
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea") || event.metaKey || event.ctrlKey || event.altKey) return;
  // Space or Enter on a focused button presses it; it does not pause every tile.
  if ((event.key === " " || event.key === "Enter") && event.target.closest("button, a")) return;
  const tile = focused();
  switch (event.key) {
    case " ": {
      event.preventDefault();
      const play = tiles.some((t) => t.video.paused);
      for (const t of tiles) play ? t.video.play().catch(() => {}) : t.video.pause();
      break;
    }
    case "1": case "2": case "3": case "4": {
      const target = tiles[Number(event.key) - 1];
      if (target && Number(event.key) <= capacity()) focusTile(target.key);
      break;
    }
    case "m": case "M":
      if (tile) { tile.userMuted = !tile.userMuted; applyAudio(); }
      break;
    case "f": case "F":
      if (tile) document.fullscreenElement ? document.exitFullscreen() : tile.element.requestFullscreen?.().catch(() => {});
      break;
    case "l": case "L":
      if (tile) tile.player.jumpToLive();
      break;
    case "s": case "S": {
      const reference = tile?.player.playingDate();
      if (!Number.isFinite(reference)) break;
      for (const other of tiles) {
        if (other === tile) continue;
        const date = other.player.playingDate();
        if (Number.isFinite(date)) other.player.nudge((reference - date) / 1000);
      }
      break;
    }
    case "[": tile?.player.nudge(-0.5); break;
    case "]": tile?.player.nudge(0.5); break;
    default: return;
  }
});

let idleTimer;
function wake() {
  document.body.classList.remove("idle");
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add("idle"), 3000);
}
document.addEventListener("mousemove", wake);
document.addEventListener("keydown", wake);

setInterval(() => {
  for (const tile of tiles) {
    tile.player.enforceCap();
    const seconds = tile.player.latency();
    tile.latency.textContent = Number.isFinite(seconds) ? `${seconds.toFixed(1)} s behind live` : "";
  }
}, 1000);

/// For tests and the curious: what every tile is doing.
window.pitlane = {
  tiles: () => tiles.map((tile, position) => ({
    tile: tile.key, stream: tile.stream, position: position + 1, visible: position < capacity(), engine: tile.player.stats.engine,
    version: tile.player.stats.version, fragsBuffered: tile.player.stats.fragsBuffered, muted: tile.video.muted,
    paused: tile.video.paused, currentTime: tile.video.currentTime, focused: tile.key === focusedKey,
    message: tile.message.classList.contains("shown") ? tile.message.textContent : null,
    via: tile.via.textContent || null, notice: tile.notice.classList.contains("shown") ? tile.notice.textContent : null,
    capped: tile.player.capped, levelCap: tile.player.levelCap,
  })),
  layout: () => state.layout,
};

/// Feeds that several streams carry are offered first: they fail over inside Pitlane.
function feedEntries(feeds) {
  return feeds.filter((feed) => feed.members.length > 1).map((feed) => ({
    id: feed.id, title: feed.title, quality: feed.quality, source: `feed of ${feed.members.length}`, feed: true,
  }));
}

/// A feed's tile says which member plays, and for a few seconds after a switch, that it switched.
async function watchFeeds() {
  for (const tile of tiles) {
    if (!tile.stream.startsWith("feed-")) { tile.via.textContent = ""; continue; }
    try {
      const feed = await api(`/api/feeds/${encodeURIComponent(tile.stream)}`);
      const playing = feed.members.find((member) => member.id === feed.current);
      tile.via.textContent = playing ? `via ${playing.source}` : "";
      const newest = feed.switches[0];
      if (newest && tile.lastSwitch !== undefined && newest.at !== tile.lastSwitch && playing) {
        tile.notice.textContent = `Switched to ${playing.title} (${newest.reason.replaceAll("_", " ")})`;
        tile.notice.classList.add("shown");
        clearTimeout(tile.noticeTimer);
        tile.noticeTimer = setTimeout(() => tile.notice.classList.remove("shown"), 8000);
      }
      tile.lastSwitch = newest ? newest.at : null;
    } catch { /* the next round tells */ }
  }
}

async function start() {
  await hlsReady;
  try {
    const [{ streams }, { feeds }] = await Promise.all([api("/api/streams"), api("/api/feeds")]);
    catalogue = [...feedEntries(feeds), ...streams];
  } catch {
    catalogue = [];
  }
  setInterval(watchFeeds, 3000);
  addSelect.replaceChildren(el("option", { value: "" }, "+ Add stream"), ...optionList(null));
  for (const id of saved.tiles) addTile(id);
  arrange();
  wake();
}

start();
