// One video element playing one stream: hls.js where it is available, the browser's native HLS where it
// is not (Safari, recent Chromium). Recovers from errors with backoff, for as long as it is on screen.

let HlsClass = null;
export const hlsReady = import("/app/vendor/hls.mjs")
  .then((module) => { HlsClass = module.H || module.default || null; return HlsClass; })
  .catch(() => null);

/// Which engine to use: `?engine=native|hlsjs` forces one (tests cover both).
export function chooseEngine(video) {
  const forced = new URLSearchParams(location.search).get("engine");
  const hlsjs = HlsClass && HlsClass.isSupported();
  const native = video.canPlayType("application/vnd.apple.mpegurl") !== "";
  if (forced === "native" && native) return "native";
  if (forced === "hlsjs" && hlsjs) return "hlsjs";
  return hlsjs ? "hlsjs" : native ? "native" : "none";
}

/// Seconds between retries once the first two attempts have failed: 5, 10, 20, then every 30 s.
export function retryDelay(attempt) {
  return Math.min(30, 5 * 2 ** Math.max(0, attempt - 3));
}

export class Player {
  /// `onTrouble(step, kind, delay)`: "reresolve" (ask Pitlane to re-run the source, then `reload()`),
  /// "failed" (the stream is down; the player tries again by itself after `delay` seconds) or
  /// "unsupported". `onStatus("playing" | text)`. `onSoundBlocked()`: the browser refused to play with sound.
  constructor(video, { onTrouble, onStatus, onSoundBlocked } = {}) {
    this.video = video;
    this.onTrouble = onTrouble || (() => {});
    this.onStatus = onStatus || (() => {});
    this.onSoundBlocked = onSoundBlocked || (() => {});
    this.stats = { engine: "none", version: null, fragsBuffered: 0, errors: 0, recoveries: 0 };
    this.attempts = 0;
    this.retryAt = null;
    this.manualLevel = -1;
    this.suspended = false;
    this.hls = null;
    this.url = null;
  }

  /// Plays `url` from its live edge; a suspended player only remembers it.
  load(url) {
    this.destroyEngine();
    this.url = url;
    this.attempts = 0;
    if (this.suspended) return;
    const engine = chooseEngine(this.video);
    this.stats.engine = engine;
    if (engine === "hlsjs") {
      const hls = new HlsClass({
        // Each tile's quality follows its size on screen (and its device pixels), never its sound.
        capLevelToPlayerSize: true, backBufferLength: 30, maxBufferLength: 20, liveSyncDurationCount: 3,
        // A few quick retries inside hls.js ride out blips (Pitlane itself holds requests while it refreshes
        // a token); after that the player's own ladder takes over instead of minutes of silent retrying.
        manifestLoadingMaxRetry: 2, levelLoadingMaxRetry: 3, fragLoadingMaxRetry: 3,
      });
      this.hls = hls;
      this.stats.version = HlsClass.version;
      hls.on(HlsClass.Events.FRAG_BUFFERED, () => {
        this.stats.fragsBuffered += 1;
        this.attempts = 0;
        this.retryAt = null;
        this.onStatus("playing");
      });
      hls.on(HlsClass.Events.ERROR, (_, data) => this.handleHlsError(data));
      hls.on(HlsClass.Events.MEDIA_ATTACHED, () => hls.loadSource(url));
      hls.on(HlsClass.Events.MANIFEST_PARSED, () => {
        if (this.manualLevel >= 0 && this.manualLevel < hls.levels.length) hls.currentLevel = this.manualLevel;
      });
      hls.attachMedia(this.video);
    } else if (engine === "native") {
      this.stats.version = null;
      this.video.src = url;
      this.nativeError = () => this.retry("network");
      this.nativeProgress = () => { this.attempts = 0; this.retryAt = null; this.stats.fragsBuffered += 1; this.onStatus("playing"); };
      this.video.addEventListener("error", this.nativeError);
      this.video.addEventListener("progress", this.nativeProgress);
    } else {
      this.onTrouble("unsupported");
      return;
    }
    this.play();
  }

  /// Starts playback; where the browser allows no sound yet (no click on the page so far), plays muted and
  /// says so, instead of standing still.
  play() {
    this.video.play().catch((error) => {
      if (error?.name !== "NotAllowedError" || this.video.muted) return;
      this.video.muted = true;
      this.onSoundBlocked();
      this.video.play().catch(() => {});
    });
  }

  handleHlsError(data) {
    this.stats.errors += 1;
    if (!data.fatal) return;
    if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR && this.stats.recoveries < 2) {
      this.stats.recoveries += 1;
      if (this.stats.recoveries === 2) this.hls.swapAudioCodec();
      this.hls.recoverMediaError();
      return;
    }
    this.retry(data.type === HlsClass.ErrorTypes.NETWORK_ERROR ? "network" : "media");
  }

  /// The recovery ladder once the engine has given up: first ask the page to have Pitlane re-resolve the
  /// stream, then one more reload after 4 s, then tell the page it failed (it offers the next-best stream)
  /// and keep trying, re-resolving each time, with a growing pause (`retryDelay`). It never gives up: a
  /// stream blocked for a while plays again by itself. Playing again resets it; a suspended player stops it.
  retry(kind) {
    this.attempts += 1;
    clearTimeout(this.retryTimer);
    if (this.attempts === 1) {
      this.onTrouble("reresolve", kind);
    } else if (this.attempts === 2) {
      this.onStatus("Reconnecting…");
      this.retryTimer = setTimeout(() => this.reload(), 4000);
    } else {
      const delay = retryDelay(this.attempts);
      this.retryAt = Date.now() + delay * 1000;
      this.onTrouble("failed", kind, delay);
      this.retryTimer = setTimeout(() => this.retryNow(), delay * 1000);
    }
  }

  /// Skips the rest of the pause between retries.
  retryNow() {
    clearTimeout(this.retryTimer);
    this.retryAt = null;
    this.onTrouble("reresolve", "retry");
  }

  /// True while the stream is down and the player waits to try again.
  get failing() {
    return this.retryAt !== null;
  }

  /// Starts the same URL again, keeping the recovery state.
  reload() {
    const attempts = this.attempts;
    this.load(this.url);
    this.attempts = attempts;
  }

  /// Off screen (a layout with fewer places, a phone's other tiles): stop loading anything.
  suspend() {
    if (this.suspended) return;
    this.suspended = true;
    this.destroyEngine();
    this.video.load();
  }

  /// Back on screen: start again at the live edge.
  resume() {
    if (!this.suspended) return;
    this.suspended = false;
    if (this.url) this.load(this.url);
  }

  /// The renditions, lowest first as hls.js orders them (empty with native HLS, which chooses by itself).
  levels() {
    return this.hls ? this.hls.levels.map((level, index) => ({ index, width: level.width, height: level.height, bitrate: level.bitrate })) : [];
  }

  /// `-1` lets hls.js choose (within the size cap); another index fixes that rendition, across reloads.
  setLevel(index) {
    this.manualLevel = index;
    if (this.hls) this.hls.currentLevel = index;
  }

  get level() {
    return this.hls ? this.hls.currentLevel : null;
  }

  get autoLevel() {
    return this.hls ? this.hls.autoLevelEnabled : true;
  }

  get levelCap() {
    return this.hls ? this.hls.autoLevelCapping : null;
  }

  /// What the stats panel shows.
  snapshot() {
    const video = this.video;
    const level = this.hls?.levels?.[this.hls.currentLevel];
    const buffered = video.buffered;
    let buffer = 0;
    for (let i = 0; i < buffered.length; i++) {
      if (buffered.start(i) <= video.currentTime + 0.1 && video.currentTime <= buffered.end(i)) buffer = buffered.end(i) - video.currentTime;
    }
    const quality = typeof video.getVideoPlaybackQuality === "function" ? video.getVideoPlaybackQuality() : null;
    return {
      width: video.videoWidth, height: video.videoHeight, bitrate: level?.bitrate ?? null, buffer,
      dropped: quality?.droppedVideoFrames ?? null, frames: quality?.totalVideoFrames ?? null, latency: this.latency(),
    };
  }

  /// Seconds behind the live edge.
  latency() {
    if (this.hls && Number.isFinite(this.hls.latency)) return this.hls.latency;
    const seekable = this.video.seekable;
    return seekable.length ? Math.max(0, seekable.end(seekable.length - 1) - this.video.currentTime) : NaN;
  }

  /// Further behind live than the player would settle by itself (after a pause, a seek back): the page
  /// offers "go live".
  behind() {
    const expected = this.hls && Number.isFinite(this.hls.targetLatency) ? this.hls.targetLatency : 10;
    const latency = this.latency();
    return Number.isFinite(latency) && latency > expected + 4;
  }

  jumpToLive() {
    if (this.hls && Number.isFinite(this.hls.liveSyncPosition)) { this.video.currentTime = this.hls.liveSyncPosition; return; }
    const seekable = this.video.seekable;
    if (seekable.length) this.video.currentTime = Math.max(seekable.start(0), seekable.end(seekable.length - 1) - 6);
  }

  /// Seeks `seconds` back (negative: forward), within what the playlist still lists and never past live.
  seekBy(seconds) {
    const seekable = this.video.seekable;
    if (!seekable.length) return;
    const live = this.hls && Number.isFinite(this.hls.liveSyncPosition) ? this.hls.liveSyncPosition : seekable.end(seekable.length - 1);
    this.video.currentTime = Math.min(live, Math.max(seekable.start(0), this.video.currentTime - seconds));
  }

  /// The wall-clock time (EXT-X-PROGRAM-DATE-TIME) of what is on screen, when the stream says it.
  playingDate() {
    if (this.hls && this.hls.playingDate) return this.hls.playingDate.getTime();
    if (typeof this.video.getStartDate === "function") {
      const start = this.video.getStartDate().getTime();
      if (Number.isFinite(start)) return start + this.video.currentTime * 1000;
    }
    return NaN;
  }

  nudge(seconds) {
    this.video.currentTime = Math.max(0, this.video.currentTime + seconds);
  }

  destroyEngine() {
    clearTimeout(this.retryTimer);
    this.retryAt = null;
    if (this.hls) { this.hls.destroy(); this.hls = null; }
    if (this.nativeError) { this.video.removeEventListener("error", this.nativeError); this.nativeError = null; }
    if (this.nativeProgress) { this.video.removeEventListener("progress", this.nativeProgress); this.nativeProgress = null; }
    this.video.removeAttribute("src");
    this.stats.fragsBuffered = 0;
  }

  destroy() {
    this.destroyEngine();
    this.video.load();
  }
}
