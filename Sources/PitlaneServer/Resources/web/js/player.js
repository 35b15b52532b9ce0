// One video element playing one stream: hls.js where it is available, the browser's native HLS where it
// is not (Safari, recent Chromium). Recovers from errors with backoff before asking for help.

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

export class Player {
  /// `onTrouble(step, kind)`: "reresolve", "failed" or "unsupported".
  constructor(video, { onTrouble, onStatus, capped } = {}) {
    this.video = video;
    this.onTrouble = onTrouble || (() => {});
    this.onStatus = onStatus || (() => {});
    this.capped = capped ?? false;
    this.stats = { engine: "none", version: null, fragsBuffered: 0, errors: 0, recoveries: 0 };
    this.attempts = 0;
    this.hls = null;
    this.url = null;
  }

  load(url) {
    this.destroyEngine();
    this.url = url;
    this.attempts = 0;
    const engine = chooseEngine(this.video);
    this.stats.engine = engine;
    if (engine === "hlsjs") {
      const hls = new HlsClass({
        capLevelToPlayerSize: true, backBufferLength: 30, maxBufferLength: 20, liveSyncDurationCount: 3,
        // A few quick retries inside hls.js ride out blips (Pitlane itself holds requests while it refreshes
        // a token); after that the page's own ladder takes over instead of minutes of silent retrying.
        manifestLoadingMaxRetry: 2, levelLoadingMaxRetry: 3, fragLoadingMaxRetry: 3,
      });
      this.hls = hls;
      this.stats.version = HlsClass.version;
      hls.on(HlsClass.Events.FRAG_BUFFERED, () => {
        this.stats.fragsBuffered += 1;
        this.attempts = 0;
        this.onStatus("playing");
      });
      hls.on(HlsClass.Events.ERROR, (_, data) => this.handleHlsError(data));
      hls.on(HlsClass.Events.MEDIA_ATTACHED, () => hls.loadSource(url));
      hls.on(HlsClass.Events.MANIFEST_PARSED, () => this.enforceCap());
      hls.attachMedia(this.video);
    } else if (engine === "native") {
      this.stats.version = null;
      this.video.src = url;
      this.nativeError = () => this.retry("network");
      this.nativeProgress = () => { this.attempts = 0; this.stats.fragsBuffered += 1; };
      this.video.addEventListener("error", this.nativeError);
      this.video.addEventListener("progress", this.nativeProgress);
    } else {
      this.onTrouble("unsupported");
      return;
    }
    this.video.play().catch(() => {});
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
  /// stream (`onTrouble("reresolve")`, which reloads), then one more reload after a backoff, then tell the
  /// page it failed (`onTrouble("failed")`), which offers the next-best stream. Playing again resets it.
  retry(kind) {
    this.attempts += 1;
    clearTimeout(this.retryTimer);
    if (this.attempts === 1) {
      this.onTrouble("reresolve", kind);
    } else if (this.attempts === 2) {
      this.onStatus("reconnecting…");
      this.retryTimer = setTimeout(() => this.reload(), 4000);
    } else {
      this.onTrouble("failed", kind);
    }
  }

  /// Starts the same URL again, keeping the recovery state.
  reload() {
    const attempts = this.attempts;
    this.load(this.url);
    this.attempts = attempts;
  }

  /// An unfocused tile needs no more than the lowest rendition: it saves the home uplink for the tile the
  /// viewer watches. (capLevelToPlayerSize already keeps small tiles from fetching big renditions.)
  setCapped(capped) {
    const changed = this.capped !== capped;
    this.capped = capped;
    if (this.hls && changed) this.hls.autoLevelCapping = capped ? 0 : -1;
    this.enforceCap();
  }

  /// hls.js's size capping re-evaluates the cap every second; an unfocused tile's cap is put back.
  enforceCap() {
    if (this.hls && this.capped && this.hls.autoLevelCapping !== 0) this.hls.autoLevelCapping = 0;
  }

  get levelCap() {
    return this.hls ? this.hls.autoLevelCapping : null;
  }

  /// Seconds behind the live edge.
  latency() {
    if (this.hls && Number.isFinite(this.hls.latency)) return this.hls.latency;
    const seekable = this.video.seekable;
    return seekable.length ? Math.max(0, seekable.end(seekable.length - 1) - this.video.currentTime) : NaN;
  }

  jumpToLive() {
    if (this.hls && Number.isFinite(this.hls.liveSyncPosition)) { this.video.currentTime = this.hls.liveSyncPosition; return; }
    const seekable = this.video.seekable;
    if (seekable.length) this.video.currentTime = Math.max(seekable.start(0), seekable.end(seekable.length - 1) - 6);
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
