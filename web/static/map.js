// The map of reports: clusters counted by the server below zoom 16 (so a
// whole city stays light), single reports from zoom 16 as pins coloured by
// status, grouped on the device by Leaflet.markercluster where they overlap;
// beside it, a paged list of the reports in view that follows the map. A
// pin's pop-up loads the report's category, status, deadline and first
// photo when it opens. Works with no tiles. Markup comes from the page's
// <template>s; the script only fills in text.
"use strict";

(() => {
  const el = document.getElementById("map");
  const labels = JSON.parse(el.dataset.labels);
  const { map, setup } = Gorod.baseMap(el);
  const params = new URLSearchParams(location.search);
  const lat = parseFloat(params.get("lat"));
  const lon = parseFloat(params.get("lon"));
  if (Number.isFinite(lat) && Number.isFinite(lon)) {
    map.setView([lat, lon], parseInt(params.get("zoom") || "16", 10));
  } else {
    map.fitBounds(setup.bounds);
  }
  const points = L.markerClusterGroup({ showCoverageOnHover: false, disableClusteringAtZoom: 18 });
  const clusters = L.layerGroup();
  points.addTo(map);
  clusters.addTo(map);

  const form = document.getElementById("map-filters");
  const status = form.elements.status;
  const category = form.elements.category;
  if (params.get("status")) status.value = params.get("status");
  if (params.get("category")) category.value = params.get("category");

  const words = document.getElementById("due-words").content.firstElementChild.dataset;
  const day = new Intl.DateTimeFormat(labels.lang, { timeZone: labels.time_zone, day: "numeric", month: "long", year: "numeric" });
  const fill = (node, slot, text) => { node.querySelector(`[data-slot=${slot}]`).textContent = text; };
  const stamp = (node, statusCode, due) => {
    const tone = `tone-${labels.tones[statusCode] || "off"}`;
    const badge = node.querySelector("[data-slot=status]");
    badge.textContent = labels.statuses[statusCode] || statusCode;
    badge.className = `status ${tone}`;
    node.classList.remove(...[...node.classList].filter((c) => c.startsWith("tone-")));
    node.classList.add(tone);
    const slot = node.querySelector("[data-slot=due]");
    if (!due) { slot.hidden = true; return; }
    slot.hidden = false;
    const late = new Date(due) < new Date();
    slot.textContent = `${late ? words.overdue : words.due}: ${day.format(new Date(due))}`;
    slot.classList.toggle("late", late);
  };

  function filters(query) {
    if (status.value === "") query.set("status", el.dataset.openStatuses);
    else if (status.value !== "all") query.set("status", status.value);
    if (category.value) query.set("category", category.value);
    return query;
  }
  const box = () => {
    const b = map.getBounds();
    const clamp = (v, limit) => Math.max(-limit, Math.min(limit, v));
    return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)]
      .map((v) => v.toFixed(6)).join(",");
  };

  // A pin's pop-up: the report itself, fetched when it opens.
  async function popup(item) {
    const node = document.getElementById("report-popup").content.firstElementChild.cloneNode(true);
    node.querySelector("[data-slot=link]").href = `/reports/${item.number}`;
    fill(node, "category", `№ ${item.number} · ${labels.categories[item.category] || item.category || ""}`);
    stamp(node, item.status, null);
    const response = await fetch(`/api/v1/reports/${item.id}`, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const report = await response.json();
      fill(node, "category", `№ ${report.number} · ${report.category.name[labels.lang] || report.category.code}`);
      stamp(node, report.status, report.deadline && !report.deadline.paused ? report.deadline.deadline : null);
      const photo = (report.photos || [])[0];
      if (photo) {
        const img = node.querySelector("[data-slot=thumbnail]");
        img.src = photo.thumbnail_url || photo.url;
        img.hidden = false;
      }
    }
    return node;
  }

  const size = (n) => (n < 10 ? "small" : n < 100 ? "medium" : "large");
  let generation = 0;

  async function loadMap() {
    const mine = ++generation;
    const query = filters(new URLSearchParams({ bbox: box(), zoom: String(map.getZoom()) }));
    const response = await fetch(`/api/v1/map?${query}`, { headers: { Accept: "application/json" } });
    if (!response.ok || mine !== generation) return;
    const data = await response.json();
    points.clearLayers();
    clusters.clearLayers();
    const markers = [];
    for (const item of data.items || data) {
      if (item.type === "cluster") {
        const icon = L.divIcon({
          html: `<div><span>${item.count}</span></div>`,
          className: `marker-cluster marker-cluster-${size(item.count)}`,
          iconSize: L.point(40, 40),
        });
        L.marker([item.lat, item.lon], { icon, title: String(item.count), keyboard: true })
          .on("click", () => map.setView([item.lat, item.lon], Math.min(map.getZoom() + 2, 18)))
          .addTo(clusters);
      } else {
        const tone = labels.tones[item.status] || "off";
        const icon = L.divIcon({ className: `pin tone-${tone}`, iconSize: L.point(22, 22), iconAnchor: L.point(11, 22), popupAnchor: L.point(0, -20) });
        const title = `№ ${item.number}: ${labels.statuses[item.status] || item.status}`;
        const marker = L.marker([item.lat, item.lon], { icon, title, alt: title, keyboard: true });
        const holder = document.createElement("div");
        marker.bindPopup(holder);
        marker.on("popupopen", () => {
          if (holder.firstChild) return;
          popup(item).then((node) => {
            holder.replaceChildren(node);
            marker.getPopup().update();
            // Once the photo is in, the pop-up is taller: fit it again.
            node.querySelector("img").addEventListener("load", () => marker.getPopup().update());
          });
        });
        markers.push(marker);
      }
    }
    points.addLayers(markers);
    el.dataset.loaded = String(markers.length + clusters.getLayers().length);
  }

  // The list beside the map: the reports in view, newest first, a page at a time.
  const list = document.getElementById("in-view-list");
  const count = document.getElementById("in-view-count");
  const none = document.getElementById("in-view-none");
  const previous = document.getElementById("in-view-previous");
  const next = document.getElementById("in-view-next");
  const PER_PAGE = 10;
  let page = 1;
  let listing = 0;

  async function loadList() {
    const mine = ++listing;
    const query = filters(new URLSearchParams({ bbox: box(), page: String(page), per_page: String(PER_PAGE) }));
    const response = await fetch(`/api/v1/reports?${query}`, { headers: { Accept: "application/json" } });
    if (!response.ok || mine !== listing) return;
    const data = await response.json();
    const cards = data.reports.map((r) => {
      const node = document.getElementById("report-card").content.firstElementChild.cloneNode(true);
      node.querySelector("[data-slot=link]").href = `/reports/${r.number}`;
      fill(node, "number", `№ ${r.number}`);
      fill(node, "category", labels.categories[r.category] || r.category);
      fill(node, "place", r.address || r.description);
      stamp(node, r.status, r.status === "paused" ? null : r.due_at);
      return node;
    });
    list.replaceChildren(...cards);
    const first = data.total === 0 ? 0 : (page - 1) * PER_PAGE + 1;
    const last = Math.min(page * PER_PAGE, data.total);
    count.textContent = data.total === 0 ? "" : labels.count.replace("{from}", first).replace("{to}", last).replace("{total}", data.total);
    none.hidden = data.total !== 0;
    previous.disabled = page <= 1;
    next.disabled = last >= data.total;
    list.dataset.total = String(data.total);
  }

  const reload = () => { page = 1; loadMap(); loadList(); };
  previous.addEventListener("click", () => { page = Math.max(1, page - 1); loadList(); });
  next.addEventListener("click", () => { page += 1; loadList(); });
  // Redrawing the pins would close an open pop-up (Leaflet moves the map
  // to fit one): while one is open, only the list follows the map.
  let popupOpen = false;
  let stale = false;
  map.on("popupopen", () => { popupOpen = true; });
  map.on("popupclose", () => { popupOpen = false; if (stale) { stale = false; loadMap(); } });
  map.on("moveend", () => {
    if (!popupOpen) { reload(); return; }
    stale = true;
    page = 1;
    loadList();
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); reload(); });
  status.addEventListener("change", reload);
  category.addEventListener("change", reload);
  reload();
})();
