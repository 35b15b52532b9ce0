// The multi-view's setup: kept in localStorage and in the URL (/watch?layout=1+3&tiles=a,b,c,d).

export const LAYOUTS = { "1": 1, "2": 2, "1+2": 3, "1+3": 4, "2x2": 4 };
const KEY = "pitlane.watch";

export function load() {
  const params = new URLSearchParams(location.search);
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || "{}"); } catch { saved = {}; }
  // URLSearchParams reads "+" as a space: "1+3" arrives as "1 3".
  const layout = (params.get("layout") || "").replace(/ /g, "+");
  const tiles = params.has("tiles") ? params.get("tiles").split(",").filter(Boolean) : saved.tiles || [];
  return {
    layout: LAYOUTS[layout] ? layout : LAYOUTS[saved.layout] ? saved.layout : defaultLayout(tiles.length),
    tiles: tiles.slice(0, 4),
    autoSwitch: saved.autoSwitch ?? false,
    volumes: saved.volumes || {},
    // The sound: the focused tile's stream, the streams heard (one, or a mix), and the mute.
    audio: { focus: saved.audio?.focus ?? null, audible: Array.isArray(saved.audio?.audible) ? saved.audio.audible : null, muted: saved.audio?.muted === true },
    // A view opened from another page's "Watch" (`once=1`) lives in its URL only: it never overwrites the
    // saved multi-view.
    once: params.get("once") === "1",
  };
}

export function defaultLayout(count) {
  return count <= 1 ? "1" : count === 2 ? "2" : count === 3 ? "1+2" : "2x2";
}

export function save(state, once = false) {
  if (!once) localStorage.setItem(KEY, JSON.stringify(state));
  const params = `?layout=${state.layout}&tiles=${state.tiles.map(encodeURIComponent).join(",")}${once ? "&once=1" : ""}`;
  history.replaceState(null, "", `/watch${params}`);
}

export function addToMultiView(streamID) {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || "{}"); } catch { saved = {}; }
  const tiles = (saved.tiles || []).filter((id) => id !== streamID);
  tiles.push(streamID);
  saved.tiles = tiles.slice(-4);
  saved.layout = defaultLayout(saved.tiles.length);
  localStorage.setItem(KEY, JSON.stringify(saved));
}
