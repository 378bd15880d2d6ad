// Filing a report: a pin on the map (or the device's location, or typed
// coordinates), a searchable category list that shows the category's
// questions, and reports already filed nearby, which the resident may join
// instead ("me too"). Placing the pin works with no tiles at all.
"use strict";

(() => {
  const form = document.getElementById("file-form");
  const { map, setup } = Gorod.baseMap(document.getElementById("pick-map"));
  map.fitBounds(setup.bounds);
  const lat = form.elements.lat;
  const lon = form.elements.lon;
  let pin = null;

  function place(latlng, pan) {
    if (!pin) {
      pin = L.marker(latlng, { draggable: true, title: "pin", keyboard: true }).addTo(map);
      pin.on("dragend", () => place(pin.getLatLng(), false));
    }
    pin.setLatLng(latlng);
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (pan) map.setView(latlng, Math.max(map.getZoom(), 16));
    lookForDuplicates();
  }

  map.on("click", (event) => place(event.latlng, false));
  for (const input of [lat, lon]) {
    input.addEventListener("change", () => {
      const a = parseFloat(lat.value.replace(",", "."));
      const b = parseFloat(lon.value.replace(",", "."));
      if (Number.isFinite(a) && Number.isFinite(b)) place(L.latLng(a, b), true);
    });
  }

  const locate = document.getElementById("locate");
  const locateStatus = document.getElementById("locate-status");
  locate.addEventListener("click", () => {
    if (!navigator.geolocation) { locateStatus.textContent = locate.dataset.failed; return; }
    locateStatus.textContent = locate.dataset.busy;
    navigator.geolocation.getCurrentPosition(
      (p) => { locateStatus.textContent = ""; place(L.latLng(p.coords.latitude, p.coords.longitude), true); },
      () => { locateStatus.textContent = locate.dataset.failed; },
      { enableHighAccuracy: true, timeout: 15000 },
    );
  });

  // The category list: typing filters it; choosing one shows its questions.
  const search = document.getElementById("cat-search");
  const choices = [...document.querySelectorAll("#cat-list .choice")];
  const groups = [...document.querySelectorAll("#cat-list .cat-group")];
  search.addEventListener("input", () => {
    const words = search.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
    for (const choice of choices) {
      const text = choice.dataset.search.toLowerCase();
      choice.hidden = !words.every((w) => text.includes(w));
    }
    // A group shows while any of its categories does.
    for (const group of groups) group.hidden = !group.querySelector(".choice:not([hidden])");
  });
  search.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const first = choices.find((c) => !c.hidden);
    if (first) { first.querySelector("input").checked = true; first.querySelector("input").focus(); chosen(); }
  });
  function chosen() {
    const code = form.elements.category.value;
    for (const set of document.querySelectorAll("[data-questions-for]")) {
      const mine = set.dataset.questionsFor === code;
      set.hidden = !mine;
      set.disabled = !mine;
    }
    lookForDuplicates();
  }
  document.getElementById("cat-list").addEventListener("change", chosen);

  // Reports of the same category within its duplicate radius.
  const box = document.getElementById("duplicates");
  const list = box.querySelector("ul");
  let asked = "";
  // The reports nearby are also pins on the map, next to the new one.
  const nearby = L.layerGroup().addTo(map);
  async function lookForDuplicates() {
    const category = form.elements.category.value;
    if (!category || !lat.value || !lon.value) return;
    const query = new URLSearchParams({ lat: lat.value, lon: lon.value, category });
    if (query.toString() === asked) return;
    asked = query.toString();
    const { status, body } = await Gorod.api("GET", `/api/v1/reports/nearby?${query}`);
    list.replaceChildren();
    nearby.clearLayers();
    box.hidden = status !== 200 || body.length === 0;
    if (box.hidden) return;
    for (const near of body) {
      const icon = L.divIcon({ className: "pin nearby", iconSize: L.point(18, 18), iconAnchor: L.point(9, 18) });
      L.marker([near.lat, near.lon], { icon, title: `№ ${near.number}`, keyboard: false }).addTo(nearby);
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/reports/${near.number}`;
      link.textContent = `№ ${near.number}`;
      const text = document.createElement("span");
      text.textContent = ` — ${near.description.slice(0, 120)} (${Math.round(near.distance_m)} m) `;
      const join = document.createElement("button");
      join.type = "button";
      join.textContent = list.dataset.meToo;
      const error = document.createElement("span");
      error.className = "error";
      const said = document.createElement("span");
      said.setAttribute("role", "status");
      join.addEventListener("click", async () => {
        const email = form.elements["reporter.email"].value.trim();
        const answer = await Gorod.api("POST", `/api/v1/reports/${near.id}/support`, { email });
        if (answer.status < 300) {
          join.disabled = true;
          error.textContent = "";
          if (answer.status === 202) {
            // Held until its sender follows the emailed link.
            said.textContent = list.dataset.held;
          } else {
            join.textContent = list.dataset.joined;
          }
        } else {
          error.textContent = answer.body.message;
        }
      });
      item.append(link, text, join, error, said);
      list.append(item);
    }
  }
})();
