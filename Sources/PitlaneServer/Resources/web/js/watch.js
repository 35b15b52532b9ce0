// The multi-view: up to four tiles, five layouts, the sound (one tile, or a mix), keys and on-screen
// controls, recovery. Tiles are keyed by their own identity, never by list position: positions are CSS grid
// areas, so a swap or a layout change never re-creates (or reloads) a player.
import { api, el, navigation } from "./common.js";
import { hlsReady } from "./player.js";
import { defaultLayout, LAYOUTS, load, save } from "./state.js";
import { Tile } from "./tile.js";

const main = document.getElementById("main");
document.body.prepend(navigation("/watch"));

const saved = load();
const state = { layout: saved.layout, autoSwitch: saved.autoSwitch, volumes: saved.volumes, muted: saved.audio.muted };
let catalogue = [];
let catalogueKnown = false;  // false until /api/streams answered: no tile is called gone before
let tiles = [];  // Tile objects in position order
let focusedKey = null;  // the tile the keys act on
let nextKey = 1;
let soundHeldBack = false;
const phone = matchMedia("(max-width: 700px)");

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
const toolbarStatus = el("span", { class: "muted status", role: "status" });
const playAll = el("button", { id: "play-all", onclick: () => togglePlayAll() }, "Pause all");
const liveAll = el("button", { id: "live-all", title: "Every tile to the live edge (L)", onclick: () => goLive() }, "● Go live");
const syncButton = el("button", { id: "sync", title: "Line every tile up with the focused one by program date time (S)", onclick: () => sync() }, "⇆ Sync");
const muteButton = el("button", { id: "mute", "aria-pressed": "false", onclick: () => toggleMute() }, "Mute");
const autoSwitch = el("input", { type: "checkbox", id: "auto-switch", onchange: (event) => { state.autoSwitch = event.target.checked; persist(); } });
autoSwitch.checked = state.autoSwitch;

main.replaceChildren(
  el("div", { class: "toolbar" },
    el("div", { class: "layouts", role: "group", "aria-label": "Layout" }, layoutButtons),
    addSelect, playAll, liveAll, syncButton, muteButton, toolbarStatus,
    el("label", { class: "muted" }, autoSwitch, " switch to the next-best stream when one fails"),
    el("details", { class: "keys" }, el("summary", {}, "Keys"),
      el("p", {}, el("kbd", {}, "Space"), " play/pause · ", el("kbd", {}, "1–4"), " sound to a tile · ", el("kbd", {}, "M"), " mute · ",
        el("kbd", {}, "F"), " fullscreen · ", el("kbd", {}, "L"), " all live · ", el("kbd", {}, "S"), " sync · ", el("kbd", {}, "←"), el("kbd", {}, "→"),
        " 10 s back/forward · ", el("kbd", {}, "["), el("kbd", {}, "]"), " nudge · ", el("kbd", {}, "P"), " picture in picture · double click: fullscreen"))),
  grid, phoneList);

function persist() {
  const focusedTile = focused();
  save({
    layout: state.layout, tiles: tiles.map((tile) => tile.stream), autoSwitch: state.autoSwitch, volumes: state.volumes,
    audio: { focus: focusedTile?.stream ?? null, audible: tiles.filter((tile) => tile.audible).map((tile) => tile.stream), muted: state.muted },
  }, saved.once);
}

function say(text) {
  toolbarStatus.textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { toolbarStatus.textContent = ""; }, 8000);
}

/// "+ Add stream": a stream already on screen is focused, not added twice; the layout grows to show every
/// tile (as the Streams page's "Add to multi-view" does); a fifth is refused with a word, never swapped in.
function addFromPicker(id) {
  const existing = tiles.find((tile) => tile.stream === id);
  if (existing) {
    solo(existing);
    say("Already on screen.");
    return;
  }
  if (tiles.length >= 4) {
    say("Four tiles at most: remove one to add another.");
    return;
  }
  toolbarStatus.textContent = "";
  const tile = addTile(id);
  if (tiles.length > capacity()) setLayout(defaultLayout(tiles.length));
  if (tiles.length === 1) solo(tile);
}

function streamInfo(id) {
  return catalogue.find((stream) => stream.id === id);
}

function capacity() {
  return LAYOUTS[state.layout];
}

/// A tile is on screen if the layout has a place for it; a phone shows only the main one.
function onScreen(position) {
  return position < capacity() && (!phone.matches || position === 0);
}

function arrange() {
  grid.className = `grid l${state.layout.replace("+", "p")}`;
  for (const button of layoutButtons) button.setAttribute("aria-pressed", String(button.dataset.layout === state.layout));
  tiles.forEach((tile, position) => {
    tile.element.style.gridArea = `p${position}`;
    tile.element.classList.toggle("hidden", position >= capacity());
    tile.element.dataset.position = String(position + 1);
    tile.mainButton.disabled = position === 0;
    // Off screen, a tile loads nothing (three unseen streams on mobile data); back on screen it starts live.
    if (onScreen(position)) tile.player.resume(); else { tile.player.suspend(); tile.closeMenu(); }
  });
  if (!tiles.some((tile) => tile.key === focusedKey)) focusedKey = tiles[0]?.key ?? null;
  applyAudio();
  phoneList.replaceChildren(...tiles.slice(1).map((tile) =>
    el("button", { class: "phone-item", onclick: () => toMain(tile) }, `▶ ${tile.title}`)));
  grid.classList.toggle("empty", tiles.length === 0);
  if (tiles.length === 0) grid.replaceChildren(el("p", {}, "No stream yet: add one above, or from the Streams page."));
  else grid.querySelector(":scope > p")?.remove();
  persist();
}

/// The sound: every audible tile at its own volume (one, or a mix), unless muted (M), or held back by the
/// browser until the first click. The focused tile is the one the keys act on and the lock screen names.
function applyAudio() {
  for (const tile of tiles) {
    tile.element.classList.toggle("focused", tile.key === focusedKey);
    tile.element.classList.toggle("audible", tile.audible && !state.muted);
    tile.video.muted = !tile.audible || state.muted || soundHeldBack;
    tile.video.volume = state.volumes[tile.stream] ?? 1;
    tile.volume.value = String(tile.video.volume);
    tile.updateSound(tile.audible, state.muted);
  }
  muteButton.textContent = state.muted ? "Unmute" : "Mute";
  muteButton.setAttribute("aria-pressed", String(state.muted));
  updateMediaSession();
}

/// Only this tile is heard (keys 1–4, a click on the picture, Main).
function solo(tile) {
  focusedKey = tile.key;
  for (const other of tiles) other.audible = other === tile;
  state.muted = false;
  applyAudio();
  persist();
}

/// ♪ on a tile: adds it to the mix or takes it out.
function toggleSound(tile) {
  tile.audible = !tile.audible;
  if (tile.audible) { focusedKey = tile.key; state.muted = false; }
  applyAudio();
  persist();
}

/// Moving a silent tile's volume adds it to the mix: a slider that changes nothing audible is a trap.
function setVolume(tile, value) {
  state.volumes[tile.stream] = value;
  if (!tile.audible || state.muted) { tile.audible = true; state.muted = false; }
  applyAudio();
  persist();
}

function toggleMute() {
  state.muted = !state.muted;
  applyAudio();
  persist();
}

function setLayout(name) {
  state.layout = name;
  arrange();
}

function optionList() {
  return catalogue.map((stream) => ({ value: stream.id, label: `${stream.title}${stream.quality ? ` (${stream.quality})` : ""} — ${stream.source}` }));
}

function addTile(streamID) {
  const tile = new Tile(`t${nextKey++}`, { solo, toggleSound, setVolume, toMain, remove: removeTile, changeStream, recover, fullscreen, soundBlocked });
  tile.player.suspended = !onScreen(tiles.length);  // an unseen tile does not start loading at all
  tiles.push(tile);
  grid.append(tile.element);
  startStream(tile, streamID);
  arrange();
  return tile;
}

function startStream(tile, streamID) {
  tile.setStream(streamID, streamInfo(streamID), optionList(), catalogueKnown);
  applyAudio();
}

function changeStream(tile, streamID) {
  if (!streamID || streamID === tile.stream) return;
  if (tiles.some((other) => other !== tile && other.stream === streamID)) {
    tile.setOptions(optionList());
    say("That stream is on another tile already.");
    return;
  }
  const wasAudible = tile.audible;
  startStream(tile, streamID);
  tile.audible = wasAudible;
  tile.closeMenu();
  arrange();  // the sound, the saved view and the phone list follow the new stream
}

/// Main (or a tap in the phone list): the tile takes the main position, and the sound with it.
function toMain(tile) {
  const index = tiles.indexOf(tile);
  if (index > 0) [tiles[0], tiles[index]] = [tiles[index], tiles[0]];
  solo(tile);
  arrange();
}

function removeTile(tile) {
  const index = tiles.indexOf(tile);
  if (index < 0) return;
  tile.player.destroy();
  tile.element.remove();
  tiles.splice(index, 1);
  // No hole: a layout with room for more tiles than remain shrinks to fit them.
  if (tiles.length && tiles.length < capacity()) state.layout = defaultLayout(tiles.length);
  if (tile.audible && !tiles.some((other) => other.audible) && tiles[0]) tiles[0].audible = true;
  arrange();
}

function fullscreen(tile) {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else tile.element.requestFullscreen?.().catch(() => say("The browser did not allow fullscreen."));
}

function soundBlocked() {
  if (soundHeldBack) return;
  soundHeldBack = true;
  say("The browser holds the sound back until you click the page or press a key.");
}

function releaseSound() {
  if (!soundHeldBack) return;
  soundHeldBack = false;
  applyAudio();
}
document.addEventListener("pointerdown", releaseSound, true);
document.addEventListener("keydown", releaseSound, true);

/// The player's ladder calls this: "reresolve" asks Pitlane to re-run the stream's source and reloads;
/// "failed" offers (or, with the setting, switches to) the next-best stream of the same title, and says
/// when the player tries again by itself.
async function recover(tile, step, kind, delay) {
  if (step === "unsupported") {
    tile.showMessage("This browser cannot play HLS, and hls.js is not installed (run scripts/fetch-hlsjs.py).");
    return;
  }
  if (step === "reresolve") {
    tile.showMessage(`Retrying: Pitlane is re-resolving ${tile.title}…`);
    const stream = tile.stream;
    try {
      await api(`/api/streams/${encodeURIComponent(stream)}/refresh`, { method: "POST" });
    } catch { /* the reload below tells whether it helped */ }
    if (tile.stream === stream && !tile.player.suspended) tile.player.reload();
    return;
  }
  const current = streamInfo(tile.stream);
  // Another stream of the title (a feed is offered in the list, not here: it may be playing this one).
  const alternative = catalogue.find((stream) => !stream.feed && stream.id !== tile.stream && current && stream.title === current.title
    && stream.health?.playable !== false && !tiles.some((other) => other.stream === stream.id));
  if (alternative && state.autoSwitch) {
    say(`${tile.title} (${current.source}) stopped playing: switched to ${alternative.source}.`);
    changeStream(tile, alternative.id);
    return;
  }
  const countdown = el("span", { "aria-hidden": "true", class: "countdown" }, ` in ${delay} s`);
  const actions = [el("button", { class: "retry-now", "aria-label": `Try ${tile.title} again now`, onclick: () => tile.player.retryNow() }, "Try now")];
  if (alternative) {
    actions.push(el("button", { class: "primary next-best", onclick: () => changeStream(tile, alternative.id) }, `Switch to ${alternative.title} (${alternative.source})`));
  }
  tile.showMessage(`${tile.title} is not answering (${kind === "media" ? "it sent something unplayable" : "network or server error"}). Retrying by itself`, ...actions);
  tile.message.querySelector("p").append(countdown);
  tile.countdown = countdown;
}

function focused() {
  return tiles.find((tile) => tile.key === focusedKey);
}

function togglePlayAll() {
  const play = tiles.some((tile) => tile.video.paused && !tile.player.suspended);
  for (const tile of tiles) {
    if (tile.player.suspended) continue;
    if (play) tile.player.play(); else tile.video.pause();
  }
}

function goLive() {
  for (const tile of tiles) if (!tile.player.suspended) tile.player.jumpToLive();
}

/// S: lines every other tile up with the focused one by PROGRAM-DATE-TIME, and says what it did or why not.
function sync() {
  const reference = focused();
  if (!reference) return;
  const others = tiles.filter((tile) => tile !== reference && !tile.player.suspended);
  const date = reference.player.playingDate();
  if (!Number.isFinite(date)) {
    say(`${reference.title} has no PROGRAM-DATE-TIME, so there is nothing to sync by: nudge with [ and ].`);
    return;
  }
  const synced = [], undated = [];
  for (const tile of others) {
    const other = tile.player.playingDate();
    if (Number.isFinite(other)) { tile.player.nudge((date - other) / 1000); synced.push(tile); } else undated.push(tile);
  }
  const count = `${synced.length} tile${synced.length === 1 ? "" : "s"}`;
  say(`Synced ${count} to ${reference.title}.` + (undated.length ? ` ${undated.map((tile) => tile.title).join(", ")}: no PROGRAM-DATE-TIME, nudge with [ and ].` : ""));
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") { for (const tile of tiles) tile.closeMenu(); return; }
  if (event.target.closest("input, select, textarea") || event.metaKey || event.ctrlKey || event.altKey) return;
  // Space or Enter on a focused button presses it; it does not pause every tile.
  if ((event.key === " " || event.key === "Enter") && event.target.closest("button, a, summary")) return;
  const tile = focused();
  switch (event.key) {
    case " ": event.preventDefault(); togglePlayAll(); break;
    case "1": case "2": case "3": case "4": {
      const position = Number(event.key) - 1;
      if (tiles[position] && onScreen(position)) solo(tiles[position]);
      break;
    }
    case "m": case "M": toggleMute(); break;
    case "f": case "F": if (tile) fullscreen(tile); break;
    case "l": case "L": goLive(); break;
    case "s": case "S": sync(); break;
    case "p": case "P": tile?.togglePictureInPicture(); break;
    case "ArrowLeft": event.preventDefault(); tile?.player.seekBy(10); break;
    case "ArrowRight": event.preventDefault(); tile?.player.seekBy(-10); break;
    case "[": tile?.player.nudge(-0.5); break;
    case "]": tile?.player.nudge(0.5); break;
    default: return;
  }
});

/// Controls fade after 3 s without a pointer or a key; a tap shows them on a touch screen. They never fade
/// while one of them has keyboard focus or a menu is open (CSS).
let idleTimer;
function wake() {
  document.body.classList.remove("idle");
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add("idle"), 3000);
}
for (const type of ["mousemove", "keydown", "pointerdown", "touchstart"]) document.addEventListener(type, wake, { passive: true });
phone.addEventListener("change", arrange);

/// Media keys and a phone's lock screen: play/pause every tile; the title of the focused one.
function updateMediaSession() {
  if (!("mediaSession" in navigator) || typeof MediaMetadata === "undefined") return;
  const tile = focused();
  const info = tile && streamInfo(tile.stream);
  navigator.mediaSession.metadata = tile ? new MediaMetadata({ title: tile.title, artist: info?.source ?? "Pitlane", album: "Pitlane" }) : null;
}
if ("mediaSession" in navigator) {
  const handlers = {
    play: () => { for (const tile of tiles) if (!tile.player.suspended) tile.player.play(); },
    pause: () => { for (const tile of tiles) tile.video.pause(); },
    seekbackward: () => focused()?.player.seekBy(10),
    seekforward: () => focused()?.player.seekBy(-10),
  };
  for (const [action, handler] of Object.entries(handlers)) {
    try { navigator.mediaSession.setActionHandler(action, handler); } catch { /* an action this browser lacks */ }
  }
}

setInterval(() => {
  for (const tile of tiles) {
    tile.tick();
    if (tile.countdown && tile.player.retryAt) tile.countdown.textContent = ` in ${Math.max(0, Math.ceil((tile.player.retryAt - Date.now()) / 1000))} s`;
  }
  const anyPaused = tiles.some((tile) => tile.video.paused && !tile.player.suspended && !tile.player.failing);
  playAll.textContent = anyPaused ? "Play all" : "Pause all";
  liveAll.classList.toggle("primary", tiles.some((tile) => tile.live.classList.contains("behind")));
}, 1000);

/// For tests and the curious: what every tile is doing.
window.pitlane = {
  tiles: () => tiles.map((tile, position) => ({
    tile: tile.key, stream: tile.stream, position: position + 1, visible: onScreen(position), suspended: tile.player.suspended,
    engine: tile.player.stats.engine, version: tile.player.stats.version, fragsBuffered: tile.player.stats.fragsBuffered,
    muted: tile.video.muted, volume: tile.video.volume, paused: tile.video.paused, currentTime: tile.video.currentTime,
    focused: tile.key === focusedKey, audible: tile.audible,
    message: tile.messageShown ? tile.message.textContent : null,
    via: tile.via.textContent || null, notice: tile.notice.classList.contains("shown") ? tile.notice.textContent : null,
    levelCap: tile.player.levelCap, level: tile.player.level, autoLevel: tile.player.autoLevel,
    latency: tile.player.latency(), latencyText: tile.latencyText.textContent, behind: tile.live.classList.contains("behind"),
  })),
  layout: () => state.layout,
  status: () => toolbarStatus.textContent,
};

/// Feeds that several streams carry are offered first: they fail over inside Pitlane.
function feedEntries(feeds) {
  return feeds.filter((feed) => feed.members.length > 1).map((feed) => ({
    id: feed.id, title: feed.title, quality: feed.quality, source: `feed of ${feed.members.length}`, feed: true, current: feed.current,
  }));
}

/// What the sources find now: the pickers follow, a tile whose stream is gone says so, and one whose stream
/// is found again starts playing.
async function loadCatalogue() {
  try {
    const [{ streams }, { feeds }] = await Promise.all([api("/api/streams?detail=1"), api("/api/feeds")]);
    catalogue = [...feedEntries(feeds), ...streams];
    catalogueKnown = true;
  } catch {
    return;
  }
  addSelect.replaceChildren(el("option", { value: "" }, "+ Add stream"), ...optionList().map((option) => el("option", { value: option.value }, option.label)));
  for (const tile of tiles) {
    const info = streamInfo(tile.stream);
    if (tile.gone && info) startStream(tile, tile.stream);
    // A playing tile is left alone (its player rides out a source's re-run); a dead one is told why.
    else if (!tile.gone && !info && (tile.player.failing || tile.messageShown)) startStream(tile, tile.stream);
    else tile.setOptions(optionList());
    tile.refreshes = info?.refresh?.count ?? streamInfo(info?.current)?.refresh?.count ?? null;
  }
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
  await loadCatalogue();
  setInterval(watchFeeds, 3000);
  setInterval(loadCatalogue, 15000);
  for (const id of saved.tiles) addTile(id);
  // The sound as it was: the focused tile, the mix and the mute; else the first tile alone.
  const audio = saved.audio;
  focusedKey = (tiles.find((tile) => tile.stream === audio.focus) ?? tiles[0])?.key ?? null;
  for (const tile of tiles) tile.audible = audio.audible ? audio.audible.includes(tile.stream) : tile.key === focusedKey;
  if (!tiles.some((tile) => tile.audible) && focused()) focused().audible = true;  // another view's mix: this one's first tile
  arrange();
  wake();
}

start();
