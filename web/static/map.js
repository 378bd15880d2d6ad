// The map of reports: clusters counted by the server below zoom 16 (so a
// whole city stays light), single reports from zoom 16, grouped on the
// device by Leaflet.markercluster where they overlap. Works with no tiles.
"use strict";

(() => {
  const el = document.getElementById("map");
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

  const size = (n) => (n < 10 ? "small" : n < 100 ? "medium" : "large");
  let generation = 0;

  async function load() {
    const mine = ++generation;
    const b = map.getBounds();
    const query = new URLSearchParams({
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(","),
      zoom: String(map.getZoom()),
    });
    if (status.value === "") query.set("status", el.dataset.openStatuses);
    else if (status.value !== "all") query.set("status", status.value);
    if (category.value) query.set("category", category.value);
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
        const marker = L.marker([item.lat, item.lon], { title: `№ ${item.number}`, alt: `№ ${item.number}` });
        const link = document.createElement("a");
        link.href = `/reports/${item.number}`;
        link.textContent = `№ ${item.number}`;
        marker.bindPopup(link);
        markers.push(marker);
      }
    }
    points.addLayers(markers);
    el.dataset.loaded = String(markers.length + clusters.getLayers().length);
  }

  map.on("moveend", load);
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  status.addEventListener("change", load);
  category.addEventListener("change", load);
  load();
})();
