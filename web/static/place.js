// The report page's small map: the place, with a pin in the colour of the
// report's status. Works with no tiles.
"use strict";

(() => {
  const el = document.getElementById("place-map");
  if (!el) return;
  const { map, setup } = Gorod.baseMap(el);
  const spot = setup.bounds[0];
  map.setView(spot, Math.min(17, setup.max_zoom));
  const icon = L.divIcon({ className: `pin tone-${el.dataset.tone}`, iconSize: L.point(22, 22), iconAnchor: L.point(11, 22) });
  L.marker(spot, { icon, keyboard: false, interactive: false }).addTo(map);
})();
