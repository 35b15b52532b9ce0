// One tile of the multi-view: its video, the bar under it (title, latency, sound, volume, seek back, live,
// main, fullscreen, menu, remove), its menu (stream, quality, nudge, picture-in-picture, stats) and its
// messages. The page (watch.js) owns the layout, the sound across tiles and the keys; a tile calls back.

import { el } from "./common.js";
import { Player } from "./player.js";

/// "640×360", "1080p" and "2.4 Mbit/s" as people read them.
export function resolution(width, height) {
  return width && height ? `${width}×${height}` : "—";
}

export function qualityName(level) {
  const rate = level.bitrate >= 1e6 ? `${(level.bitrate / 1e6).toFixed(1)} Mbit/s` : `${Math.round(level.bitrate / 1e3)} kbit/s`;
  return level.height ? `${level.height}p (${rate})` : rate;
}

export class Tile {
  /// `page`: { solo(tile), toggleSound(tile), setVolume(tile, value), toMain(tile), remove(tile),
  /// changeStream(tile, id), recover(tile, step, kind, delay), fullscreen(tile), soundBlocked() }.
  constructor(key, page) {
    this.key = key;
    this.page = page;
    this.stream = null;
    this.title = "";
    this.audible = false;
    this.refreshes = null;
    const button = (name, text, onclick) => el("button", { class: name, onclick: (event) => { event.stopPropagation(); onclick(); } }, text);
    this.video = el("video", { playsinline: true, muted: true, autoplay: true });
    this.video.muted = true;
    this.name = el("span", { class: "name" });
    this.latencyText = el("span", { class: "muted latency" });
    this.via = el("span", { class: "muted via" });
    this.notice = el("div", { class: "notice", role: "status" });
    this.message = el("div", { class: "message", role: "status" });
    this.sound = button("sound", "♪ off", () => page.toggleSound(this));
    this.volume = el("input", { type: "range", class: "volume", min: "0", max: "1", step: "0.05", onchange: (event) => event.target.blur(),
      oninput: (event) => page.setVolume(this, Number(event.target.value)) });
    this.back = button("back", "⟲ 10 s", () => this.player.seekBy(10));
    this.live = button("live", "LIVE", () => this.player.jumpToLive());
    this.mainButton = button("swap", "Main", () => page.toMain(this));
    this.fullscreenButton = button("fullscreen", "⤢", () => page.fullscreen(this));
    this.menuButton = button("menu", "⋯", () => this.toggleMenu());
    this.removeButton = button("remove", "✕", () => page.remove(this));
    this.select = el("select", { class: "stream", onchange: (event) => { event.target.blur(); page.changeStream(this, event.target.value); } });
    this.quality = el("select", { class: "quality", onchange: (event) => { event.target.blur(); this.player.setLevel(Number(event.target.value)); } });
    this.earlier = button("nudge-back", "−0.5 s", () => this.player.nudge(-0.5));
    this.later = button("nudge-forward", "+0.5 s", () => this.player.nudge(0.5));
    this.pip = button("pip", "Picture in picture", () => this.togglePictureInPicture());
    this.pip.hidden = !document.pictureInPictureEnabled;
    this.stats = el("dl", { class: "stats" });
    this.menu = el("div", { class: "menu-panel", hidden: true, onclick: (event) => event.stopPropagation() },
      el("label", {}, "Stream ", this.select), el("label", {}, "Quality ", this.quality),
      el("div", { class: "row" }, "Sync by hand ", this.earlier, this.later), this.pip, this.stats);
    this.element = el("div", { class: "tile", "data-tile": key },
      this.video, this.notice, this.message, this.menu,
      el("div", { class: "controls" },
        el("div", { class: "info" }, this.name, this.latencyText, this.via),
        el("div", { class: "buttons" }, this.sound, this.volume, this.back, this.live, this.mainButton, this.fullscreenButton, this.menuButton, this.removeButton)));
    // A click on the picture gives it the sound (and shows the controls on a touch screen); a double click
    // makes it fullscreen.
    this.video.addEventListener("click", () => page.solo(this));
    this.video.addEventListener("dblclick", () => page.fullscreen(this));
    this.player = new Player(this.video, {
      onTrouble: (step, kind, delay) => page.recover(this, step, kind, delay),
      onStatus: (text) => { if (text === "playing") this.hideMessage(); else this.showMessage(text); },
      onSoundBlocked: () => page.soundBlocked(),
    });
  }

  /// Plays `id` (`info` from the catalogue; none: the stream is gone, said on the tile, nothing loaded).
  setStream(id, info, options, known) {
    this.stream = id;
    this.title = info ? info.title : id;
    this.name.textContent = this.title;
    this.refreshes = null;
    this.setOptions(options);
    this.relabel();
    this.hideMessage();
    if (!info && known) {
      this.player.destroyEngine();
      this.player.url = null;
      this.gone = true;
      this.showMessage(`“${id}” is no longer found by any source. Choose another stream under ⋯, or remove the tile; it comes back by itself if a source finds it again.`,
        el("button", { class: "primary", onclick: () => this.openMenu() }, "Choose a stream"));
      return;
    }
    this.gone = false;
    this.player.setLevel(-1);
    this.player.load(`/hls/${encodeURIComponent(id)}/master.m3u8`);
  }

  /// The stream picker; a stream that is gone stays selected under its own id, so that choosing any real
  /// stream is a change.
  setOptions(options) {
    if (document.activeElement === this.select) return;
    const known = options.some((option) => option.value === this.stream);
    this.select.replaceChildren(
      ...(known ? [] : [el("option", { value: this.stream, disabled: true }, `Gone: ${this.stream}`)]),
      ...options.map((option) => el("option", { value: option.value }, option.label)));
    this.select.value = this.stream;
  }

  /// Every control says which tile it belongs to (four "Volume" buttons tell a screen reader nothing).
  relabel() {
    const title = this.title;
    const label = (node, text) => { node.setAttribute("aria-label", text); node.title = text; };
    label(this.video, `Video: ${title}`);
    label(this.volume, `Volume of ${title}`);
    label(this.back, `Back 10 seconds on ${title}`);
    label(this.live, `${title}: go live`);
    label(this.mainButton, `Move ${title} to the main position`);
    label(this.fullscreenButton, `${title} fullscreen`);
    label(this.menuButton, `More for ${title}: stream, quality, stats`);
    label(this.removeButton, `Remove ${title}`);
    label(this.select, `Stream on the tile of ${title}`);
    label(this.quality, `Quality of ${title}`);
    label(this.earlier, `${title} 0.5 s earlier`);
    label(this.later, `${title} 0.5 s later`);
    label(this.pip, `${title} in picture in picture`);
    this.updateSound(false, false);
  }

  updateSound(audible, muted) {
    const state = audible ? (muted ? "muted" : "on") : "off";
    this.sound.textContent = `♪ ${state}`;
    this.sound.setAttribute("aria-pressed", String(audible && !muted));
    this.sound.setAttribute("aria-label", `Sound of ${this.title}: ${state}`);
  }

  showMessage(text, ...actions) {
    this.latencyText.textContent = "";  // a dead tile is not "0.0 s behind live"
    this.message.replaceChildren(el("p", {}, text), ...actions);
    this.message.classList.add("shown");
  }

  hideMessage() {
    this.message.classList.remove("shown");
  }

  get messageShown() {
    return this.message.classList.contains("shown");
  }

  toggleMenu() {
    if (this.menu.hidden) this.openMenu(); else this.closeMenu();
  }

  openMenu() {
    this.menu.hidden = false;
    this.element.classList.add("menu-open");
    this.menuButton.setAttribute("aria-expanded", "true");
    this.tick();
  }

  closeMenu() {
    this.menu.hidden = true;
    this.element.classList.remove("menu-open");
    this.menuButton.setAttribute("aria-expanded", "false");
  }

  async togglePictureInPicture() {
    try {
      if (document.pictureInPictureElement === this.video) await document.exitPictureInPicture();
      else await this.video.requestPictureInPicture();
    } catch { /* the browser says no (not playing yet, or not allowed): nothing to undo */ }
  }

  /// Once a second: latency (blank while the tile is dead or paused), the live button, the menu.
  tick() {
    const player = this.player;
    const dead = player.suspended || player.failing || this.gone || this.video.paused || this.messageShown;
    const seconds = player.latency();
    this.latencyText.textContent = !dead && Number.isFinite(seconds) ? `${seconds.toFixed(1)} s behind live` : "";
    const behind = !dead && player.behind();
    this.live.classList.toggle("behind", behind);
    this.live.textContent = behind ? `LIVE −${Math.round(seconds)} s` : "LIVE";
    this.live.setAttribute("aria-label", behind ? `${this.title} is ${Math.round(seconds)} s behind live: go live` : `${this.title} plays live`);
    this.live.title = this.live.getAttribute("aria-label");
    if (!this.menu.hidden) this.renderMenu();
  }

  renderMenu() {
    const levels = this.player.levels();
    const wanted = ["-1", ...levels.map((level) => String(level.index))].join();
    if (this.quality.dataset.levels !== wanted && document.activeElement !== this.quality) {
      this.quality.dataset.levels = wanted;
      this.quality.replaceChildren(el("option", { value: "-1" }, "Auto"), ...levels.map((level) => el("option", { value: String(level.index) }, qualityName(level))));
      this.quality.disabled = levels.length === 0;
    }
    if (document.activeElement !== this.quality) this.quality.value = String(this.player.autoLevel ? -1 : this.player.level);
    const s = this.player.snapshot();
    const engine = this.player.stats.engine === "hlsjs" ? `hls.js ${this.player.stats.version}` : this.player.stats.engine === "native" ? "the browser's HLS" : "none";
    const rows = [
      ["Playing", `${resolution(s.width, s.height)}${s.bitrate ? ` at ${Math.round(s.bitrate / 1000)} kbit/s` : ""}`],
      ["Buffer", `${s.buffer.toFixed(1)} s`],
      ["Dropped frames", s.dropped === null ? "—" : `${s.dropped} of ${s.frames}`],
      ["Latency", Number.isFinite(s.latency) ? `${s.latency.toFixed(1)} s behind live` : "—"],
      ["Engine", engine],
      ["Token refreshes", this.refreshes === null ? "—" : String(this.refreshes)],
    ];
    this.stats.replaceChildren(...rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
  }
}
