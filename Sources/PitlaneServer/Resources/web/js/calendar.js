// The calendar page: the live or next session with a ticking countdown, then the season by round.
import { api, el, formatTime, formatClock, countdown, navigation, viewerZone } from "./common.js";

const main = document.getElementById("main");
document.body.prepend(navigation("/"));

function hero(schedule) {
  const reference = schedule.current || schedule.next;
  if (!reference) return el("section", { class: "hero" }, el("h1", {}, "The season is over"), el("p", { class: "muted" }, "See you next year."));
  const live = reference === schedule.current;
  const target = Date.now() + (reference.countdownSeconds ?? 0) * 1000;
  const clock = el("div", { class: "countdown", id: "countdown", "aria-label": "Time until the session starts" }, live ? "LIVE" : countdown(target - Date.now()));
  if (!live) setInterval(() => { clock.textContent = countdown(target - Date.now()); }, 1000);
  return el("section", { class: "hero", id: "hero" },
    el("div", {},
      el("span", { class: live ? "badge live" : "badge" }, live ? "Live now" : "Next"),
      el("h1", {}, `${reference.name} — ${reference.event}`),
      el("div", { class: "muted" }, `${formatTime(reference.start, viewerZone, reference.allDay)} your time`)),
    el("div", {}, clock, live ? el("a", { class: "button primary", href: "/streams" }, "Watch") : null));
}

function sessionRow(event, session) {
  const badges = [];
  if (session.status === "live") badges.push(el("span", { class: "badge live" }, "Live"));
  if (session.state === "tbc") badges.push(el("span", { class: "badge tbc" }, "TBC"));
  if (session.state === "cancelled") badges.push(el("span", { class: "badge cancelled" }, "Cancelled"));
  if (session.status === "past" && session.state !== "cancelled") badges.push(el("span", { class: "badge past" }, "Done"));
  return el("tr", { class: `session ${session.status}` },
    el("td", {}, session.name),
    el("td", { class: "when" }, formatTime(session.start, viewerZone, session.allDay)),
    el("td", { class: "when muted", title: `Local time at the track (${event.timeZone})` }, session.allDay ? "" : `${formatClock(session.start, event.timeZone)} track`),
    el("td", {}, badges));
}

function round(event) {
  const done = event.sessions.every((session) => session.status === "past");
  return el("article", { class: done ? "round past" : "round", id: `round-${event.round}` },
    el("h2", {}, `Round ${event.round} · ${event.name}`,
      event.sprintWeekend ? el("span", { class: "badge sprint" }, "Sprint") : null,
      el("span", { class: "muted" }, `${event.locality}, ${event.country}`)),
    el("table", { class: "sessions" }, el("tbody", {}, event.sessions.map((session) => sessionRow(event, session)))));
}

async function render() {
  try {
    const schedule = await api("/api/schedule");
    main.replaceChildren(
      hero(schedule),
      el("div", { class: "toolbar" },
        el("h1", { class: "page-title" }, `${schedule.season} season`),
        el("span", { class: "muted" }, `Times in ${viewerZone}; the track's local time beside them.`),
        el("a", { class: "button", href: "/calendar.ics", download: "formula1.ics" }, "Subscribe (iCalendar)")),
      el("section", { class: "rounds", "aria-label": "Rounds" }, schedule.events.map(round)));
  } catch (error) {
    main.replaceChildren(el("p", { role: "alert" }, `The calendar could not be loaded: ${error.message}`));
  }
}

render();
