// The dispatchers' page: draws the area from /static/area.json, then
// follows the board's stream (/board/stream, Server-Sent Events; the
// session cookie goes with it) and redraws the map, the counters and the
// feed on every picture. Standard JavaScript, no library, no other host.
"use strict";

const svgNS = "http://www.w3.org/2000/svg";
const map = document.getElementById("map");
const status = document.getElementById("status");
let area = null;
let view = null; // the projection of the current picture

function setStatus(text, cls) {
  status.textContent = text;
  status.className = "status " + (cls || "");
}

function el(name, attrs, parent) {
  const e = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// project returns the projection fitting the area and every point given:
// longitude scaled by the cosine of the latitude, so distances look right.
function project(points) {
  let minLat = Infinity, maxLat = -Infinity, minLon = Infinity, maxLon = -Infinity;
  for (const [lat, lon] of points) {
    minLat = Math.min(minLat, lat); maxLat = Math.max(maxLat, lat);
    minLon = Math.min(minLon, lon); maxLon = Math.max(maxLon, lon);
  }
  const k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
  const pad = 0.05 * Math.max(maxLat - minLat, (maxLon - minLon) * k, 0.01);
  minLat -= pad; maxLat += pad; minLon -= pad / k; maxLon += pad / k;
  const width = 800;
  const height = Math.max(200, Math.min(1200, width * (maxLat - minLat) / ((maxLon - minLon) * k)));
  const sx = width / (maxLon - minLon), sy = height / (maxLat - minLat);
  return {
    width, height,
    x: (lon) => (lon - minLon) * sx,
    y: (lat) => (maxLat - lat) * sy,
    step: 0.01 * sy, // about a kilometre of latitude, in pixels
  };
}

function drawArea(v) {
  map.setAttribute("viewBox", `0 0 ${v.width} ${v.height}`);
  const base = el("g", { class: "area" });
  const grid = el("g", { class: "grid" }, base);
  const gap = Math.max(20, v.step * 2);
  for (let x = 0; x <= v.width; x += gap) el("line", { x1: x, y1: 0, x2: x, y2: v.height }, grid);
  for (let y = 0; y <= v.height; y += gap) el("line", { x1: 0, y1: y, x2: v.width, y2: y }, grid);
  if (area) {
    const pts = (list) => list.map(([lat, lon]) => `${v.x(lon).toFixed(1)},${v.y(lat).toFixed(1)}`).join(" ");
    el("polygon", { class: "outline", points: pts(area.outline) }, base);
    el("polyline", { class: "river", points: pts(area.river) }, base);
    const [lat, lon] = area.outline[0];
    const name = el("text", { class: "area-name", x: v.x(lon) + 8, y: v.y(lat) - 8 }, base);
    name.textContent = area.name;
  }
  return base;
}

// marker draws a trip's dot on layer.dots, and its label on layer.labels,
// above every dot, so that no dot hides a name.
function marker(layer, cls, trip, point, label, title) {
  const g = el("g", { class: "marker " + cls, "data-trip-id": trip.tripId }, layer.dots);
  const x = view.x(point.lon), y = view.y(point.lat);
  el("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 7 }, g);
  const t = el("title", {}, g);
  t.textContent = title;
  if (label) {
    const text = el("text", { class: "label", x: (x + 10).toFixed(1), y: (y + 4).toFixed(1) }, layer.labels);
    text.textContent = label;
  }
}

function wait(seconds) {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${seconds % 60} s`;
}

function render(p) {
  const points = area ? area.outline.slice() : [];
  const placed = [...p.waiting, ...p.assigned, ...p.notFound].filter((t) => t.pickup);
  for (const t of placed) points.push([t.pickup.lat, t.pickup.lon]);
  if (points.length === 0) points.push([50.08, 14.42]);
  view = project(points);
  map.replaceChildren(drawArea(view));
  const layer = { dots: el("g", { class: "markers" }, map), labels: el("g", { class: "labels" }, map) };
  for (const t of p.notFound) {
    if (!t.pickup) continue;
    const why = t.reasonCode === "no_driver_near" ? "no driver near" : "no driver free";
    marker(layer, "no-driver", t, t.pickup, "", `${t.riderId}: ${why}`);
  }
  for (const t of p.assigned) {
    if (!t.pickup) continue;
    const d = t.driver;
    marker(layer, "assigned", t, t.pickup, d.name,
      `${d.name} in a ${d.car.color} ${d.car.make} ${d.car.model} (${d.car.plate}) for ${t.riderId}, about ${Math.max(1, Math.round(t.etaSeconds / 60))} min`);
  }
  for (const t of p.waiting) {
    marker(layer, "waiting", t, t.pickup, "", `${t.riderId}: waiting ${wait(t.waitedSeconds)}`);
  }

  const c = p.counters;
  document.getElementById("count-waiting").textContent = c.waitingNow;
  document.getElementById("longest-wait").textContent = c.waitingNow ? wait(c.longestWaitSeconds) : "–";
  document.getElementById("count-assigned").textContent = c.assignedRecently;
  document.getElementById("count-not-found").textContent = c.notFoundRecently;
  for (const w of document.querySelectorAll(".window")) w.textContent = c.windowMinutes;

  const feed = document.getElementById("feed");
  feed.replaceChildren(...p.feed.map((e) => {
    const li = document.createElement("li");
    li.dataset.kind = e.kind;
    li.dataset.tripId = e.tripId;
    const time = document.createElement("time");
    time.dateTime = e.at;
    time.textContent = new Date(e.at).toLocaleTimeString();
    li.append(time, e.text);
    return li;
  }));
}

function follow() {
  const stream = new EventSource("/board/stream");
  stream.addEventListener("open", () => setStatus("live", "live"));
  stream.addEventListener("board", (e) => render(JSON.parse(e.data)));
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) {
      // The server refused the stream (signed out, or too many open):
      // EventSource does not try again by itself.
      setStatus("disconnected: reload the page, or sign in again", "down");
    } else {
      setStatus("reconnecting…", "down");
    }
  });
}

fetch("/static/area.json")
  .then((r) => (r.ok ? r.json() : null))
  .then((a) => { area = a; })
  .catch(() => { area = null; })
  .finally(follow);
