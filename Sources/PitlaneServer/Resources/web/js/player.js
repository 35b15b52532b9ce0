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
  /// `onTrouble(kind)` is called when retries did not help: the page then re-resolves the stream.
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
        manifestLoadingMaxRetry: 2, levelLoadingMaxRetry: 4, fragLoadingMaxRetry: 4,
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

  /// Backoff 1, 2, 4 s; after that the page is asked to re-resolve the stream.
  retry(kind) {
    this.attempts += 1;
    if (this.attempts > 3) {
      this.onTrouble(kind);
      return;
    }
    this.onStatus(`reconnecting (${this.attempts}/3)…`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.hls) {
        this.hls.loadSource(this.url);
        this.hls.startLoad();
      } else if (this.url) {
        this.video.src = this.url;
        this.video.play().catch(() => {});
      }
    }, 1000 * 2 ** (this.attempts - 1));
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
