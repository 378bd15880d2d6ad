// Filing a report: a pin on the map (or the device's location, typed
// coordinates, or an address typed and chosen from the city's registry),
// the nearest registry address filled in when the pin drops, a searchable
// category list that shows the category's questions, the city objects of
// the category near the pin (pick one: the report goes to whoever looks
// after it), and reports already filed nearby, which the resident may join
// instead ("me too"). Placing the pin works with no tiles at all.
"use strict";

(() => {
  const form = document.getElementById("file-form");
  const { map, setup } = Gorod.baseMap(document.getElementById("pick-map"));
  map.fitBounds(setup.bounds);
  const lat = form.elements.lat;
  const lon = form.elements.lon;
  let pin = null;

  // `from`: "address" when an address was chosen (it is kept), "object"
  // when an object was (the object stays picked); otherwise the nearest
  // address is looked up and the objects around offered again.
  function place(latlng, pan, from) {
    if (!pin) {
      pin = L.marker(latlng, { draggable: true, title: "pin", keyboard: true }).addTo(map);
      pin.on("dragend", () => place(pin.getLatLng(), false));
    }
    pin.setLatLng(latlng);
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (pan) map.setView(latlng, Math.max(map.getZoom(), 17));
    if (from !== "address") fillAddress();
    if (from !== "object") lookForObjects();
    lookForDuplicates();
  }

  // The address: typing offers the registry's matches; choosing one moves
  // the pin there. A dropped pin fills in the nearest house unless the
  // resident wrote an address of their own.
  const address = form.elements.address;
  const suggestions = document.getElementById("address-list");
  const found = document.getElementById("address-found");
  let filled = "";
  let typing = null;
  let options = [];
  let active = -1;
  async function fillAddress() {
    const query = new URLSearchParams({ lat: lat.value, lon: lon.value });
    const { status, body } = await Gorod.api("GET", `/api/v1/geocode/reverse?${query}`);
    const near = status === 200 ? body.label : "";
    found.textContent = near ? `${found.dataset.label}: ${near} (${Math.round(body.distance_m)} m)` : "";
    if (near && (address.value.trim() === "" || address.value === filled)) {
      address.value = near;
      filled = near;
    }
  }
  function showSuggestions(list) {
    options = list;
    active = -1;
    suggestions.replaceChildren(...list.map((a, i) => {
      const item = document.createElement("li");
      item.id = `address-option-${i}`;
      item.setAttribute("role", "option");
      // On an English page, the street's English name beside the register's.
      const english = document.documentElement.lang === "en" && a.street_en;
      item.textContent = english ? `${a.label} · ${a.street_en}` : a.label;
      item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(i); });
      return item;
    }));
    suggestions.hidden = list.length === 0;
    address.setAttribute("aria-expanded", String(list.length > 0));
    address.removeAttribute("aria-activedescendant");
  }
  function choose(i) {
    const a = options[i];
    if (!a) return;
    address.value = a.label;
    filled = a.label;
    showSuggestions([]);
    found.textContent = "";
    place(L.latLng(a.lat, a.lon), true, "address");
  }
  address.addEventListener("input", () => {
    clearTimeout(typing);
    const q = address.value.trim();
    if (q.length < 3) { showSuggestions([]); return; }
    typing = setTimeout(async () => {
      const { status, body } = await Gorod.api("GET", `/api/v1/geocode?${new URLSearchParams({ q, limit: 6 })}`);
      if (address.value.trim() === q) showSuggestions(status === 200 ? body : []);
    }, 200);
  });
  address.addEventListener("keydown", (event) => {
    if (suggestions.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      [...suggestions.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
      address.setAttribute("aria-activedescendant", `address-option-${active}`);
    } else if (event.key === "Enter") {
      event.preventDefault();
      choose(Math.max(active, 0));
    } else if (event.key === "Escape") {
      showSuggestions([]);
    }
  });
  address.addEventListener("blur", () => setTimeout(() => showSuggestions([]), 150));

  // The category's objects near the pin, on the map and as a list.
  const objects = document.getElementById("objects");
  const objectList = objects.querySelector(".choices");
  const objectPins = L.layerGroup().addTo(map);
  let objectsAsked = "";
  async function lookForObjects() {
    const category = form.elements.category.value;
    if (!category || !lat.value || !lon.value) return;
    const query = new URLSearchParams({ lat: lat.value, lon: lon.value, category });
    if (query.toString() === objectsAsked) return;
    objectsAsked = query.toString();
    const { status, body } = await Gorod.api("GET", `/api/v1/objects?${query}`);
    const near = status === 200 ? body.slice(0, 8) : [];
    objectPins.clearLayers();
    const none = radio("", objectList.dataset.none, true);
    objectList.replaceChildren(none.label, ...near.map((o) => {
      const name = document.documentElement.lang === "en" && o.name_en ? o.name_en : o.name;
      const { label, input } = radio(o.id, `${name} — ${Math.round(o.distance_m)} m`, false);
      const icon = L.divIcon({ className: "pin object", iconSize: L.point(16, 16), iconAnchor: L.point(8, 8) });
      const marker = L.marker([o.lat, o.lon], { icon, title: name, keyboard: false }).addTo(objectPins);
      const pick = () => { input.checked = true; highlight(); place(L.latLng(o.lat, o.lon), false, "object"); };
      marker.on("click", pick);
      input.addEventListener("change", pick);
      input.marker = marker;
      return label;
    }));
    objects.hidden = near.length === 0;
    objects.disabled = near.length === 0;
  }
  function radio(value, text, checked) {
    const label = document.createElement("label");
    label.className = "choice";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "object";
    input.value = value;
    input.checked = checked;
    input.addEventListener("change", highlight);
    label.append(input, ` ${text}`);
    return { label, input };
  }
  function highlight() {
    for (const input of objectList.querySelectorAll("input")) {
      if (input.marker) input.marker.getElement()?.classList.toggle("picked", input.checked);
    }
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
    lookForObjects();
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
