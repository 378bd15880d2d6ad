// Gorod's pages: forms with a data-api attribute are sent to the JSON API
// (with the session's CSRF token), and each error the API names a field of
// is shown next to that field. Works with the keyboard: these are ordinary
// forms with labels; the script only changes how they are sent.
"use strict";

const Gorod = (() => {
  const csrf = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : null;
  };

  function setCsrf(token) {
    let meta = document.querySelector('meta[name="csrf-token"]');
    if (!meta) {
      meta = document.createElement("meta");
      meta.name = "csrf-token";
      document.head.appendChild(meta);
    }
    meta.content = token;
  }

  // Sends a request to the API; resolves to {status, body}.
  async function api(method, url, payload) {
    const headers = { Accept: "application/json" };
    const token = csrf();
    if (token) headers["X-CSRF-Token"] = token;
    let body;
    if (payload instanceof FormData) {
      body = payload;
    } else if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(payload);
    }
    const response = await fetch(url, { method, headers, body, credentials: "same-origin" });
    let data = null;
    const text = await response.text();
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = { message: text }; }
    return { status: response.status, body: data };
  }

  function setPath(target, path, value) {
    const parts = path.split(".");
    let node = target;
    for (const part of parts.slice(0, -1)) {
      node[part] = node[part] || {};
      node = node[part];
    }
    node[parts[parts.length - 1]] = value;
  }

  function localWithOffset(value) {
    // A datetime-local value in the device's zone, with its offset.
    const date = new Date(value);
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
    return `${value.length === 16 ? value + ":00" : value}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
  }

  // The form's fields as the API's JSON: dotted names nest, data-type says
  // numbers, booleans, lists and local times; empty optional fields are left out.
  function collect(form) {
    const json = {};
    const files = [];
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.closest("fieldset[disabled]")) continue;
      if (el.type === "file") { for (const f of el.files) files.push([el.name, f]); continue; }
      const type = el.dataset.type;
      if (type === "bool") {
        setPath(json, el.name, el.type === "checkbox" ? el.checked : el.value === "true");
        continue;
      }
      if (type === "list") {
        if (el.checked) {
          const parts = el.name.split(".");
          let node = json;
          for (const p of parts.slice(0, -1)) node = node[p] = node[p] || {};
          const key = parts[parts.length - 1];
          (node[key] = node[key] || []).push(el.value);
        }
        continue;
      }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      const value = el.value.trim();
      if (value === "") continue;
      if (type === "number") setPath(json, el.name, Number(value.replace(",", ".")));
      else if (type === "datetime") setPath(json, el.name, localWithOffset(value));
      else setPath(json, el.name, el.value);
    }
    return { json, files };
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach((e) => { e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  }

  // Puts each of the API's messages next to the field it names (photos[2]
  // → photos, answers.size → answers.size), else at the top of the form,
  // and moves the focus to the first.
  function showError(form, error) {
    const each = (error && Array.isArray(error.errors) && error.errors.length > 0)
      ? error.errors
      : [error || {}];
    let first = null;
    for (const one of each) {
      const field = one.field || "body";
      const candidates = [field, field.replace(/\[\d+\]/g, ""), field.split(".")[0], "body"];
      let slot = null;
      for (const name of candidates) {
        slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
        if (slot) break;
      }
      const message = one.message || (error && error.message) || "Error";
      if (!slot) { alert(message); continue; }
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      const input = form.querySelector(`[name="${CSS.escape(field.replace(/\[\d+\]/g, ""))}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
      if (!first) first = input || slot;
    }
    if (first && first.focus && first.matches("input, select, textarea")) first.focus();
    else if (first) first.scrollIntoView({ block: "center" });
  }

  async function submit(form, extra) {
    clearErrors(form);
    const { json, files } = collect(form);
    Object.assign(json, extra || {});
    let payload = json;
    if (files.length > 0 && form.dataset.jsonPart) {
      payload = new FormData();
      payload.append(form.dataset.jsonPart, new Blob([JSON.stringify(json)], { type: "application/json" }));
      for (const [name, file] of files) payload.append(name, file, file.name);
    }
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      const { status, body } = await api(form.dataset.method || "POST", form.dataset.api, payload);
      form.dispatchEvent(new CustomEvent("gorod:answer", { detail: { status, body } }));
      if (status >= 400) { showError(form, body); return; }
      if (body && body.csrf_token) setCsrf(body.csrf_token);
      if (body && body.second_factor_pending) { await enrol(); return; }
      const statusSlot = form.querySelector(".form-status");
      if (body && body.status === "awaiting_confirmation" && form.dataset.held) {
        statusSlot.textContent = form.dataset.held;
        form.reset();
        return;
      }
      if (form.dataset.then === "reload") { location.reload(); return; }
      if (form.dataset.then) {
        location.assign(form.dataset.then.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(body[k])));
        return;
      }
      if (statusSlot) statusSlot.textContent = form.dataset.done || "OK";
    } catch (e) {
      showError(form, { message: String(e) });
    } finally {
      if (button) button.disabled = false;
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.api || form.dataset.custom) return;
    event.preventDefault();
    submit(form);
  });

  // Bulk actions: the reports ticked in the form's table, moved one by one
  // by the API, and what moved and what did not, with why.
  document.addEventListener("change", (event) => {
    const all = event.target;
    if (!all.classList || !all.classList.contains("pick-all")) return;
    all.closest("table").querySelectorAll("input.pick").forEach((p) => { p.checked = all.checked; });
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.dataset || form.dataset.custom !== "bulk") return;
    event.preventDefault();
    clearErrors(form);
    const table = document.getElementById(form.dataset.table);
    const reports = [...table.querySelectorAll("input.pick:checked")].map((p) => p.value);
    const { json } = collect(form);
    json.reports = reports;
    const result = form.querySelector(".bulk-result");
    result.textContent = "";
    const { status, body } = await api("POST", "/api/v1/reports/bulk-actions", json);
    if (status >= 400) { showError(form, body); return; }
    const moved = document.createElement("p");
    moved.textContent = `${result.dataset.moved}: ${body.moved.map((m) => "№ " + m.number).join(", ") || "—"}`;
    result.appendChild(moved);
    if (body.refused.length > 0) {
      const heading = document.createElement("p");
      heading.textContent = `${result.dataset.refused}:`;
      const list = document.createElement("ul");
      for (const r of body.refused) {
        const item = document.createElement("li");
        item.textContent = `№ ${r.number ?? r.id}: ${r.message}`;
        list.appendChild(item);
      }
      result.append(heading, list);
    }
  });

  // A canned answer chosen fills its move's text field, to edit or send.
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (!select.classList || !select.classList.contains("canned")) return;
    const option = select.selectedOptions[0];
    const into = document.getElementById(select.dataset.into);
    if (into && option && option.dataset.text) into.value = option.dataset.text;
  });

  // Logging out: the API ends every session; then the front page.
  document.addEventListener("click", async (event) => {
    if (event.target.id !== "logout") return;
    await api("POST", "/api/v1/account/logout");
    location.assign("/");
  });

  // A staff login that owes the second factor shows the enrolment step:
  // the new secret to type into the app, and a form for its first code.
  async function enrol() {
    const section = document.getElementById("enrol");
    const { status, body } = await api("POST", "/api/v1/account/totp");
    if (!section || status !== 200) return;
    document.getElementById("enrol-secret").textContent = body.secret;
    section.hidden = false;
    document.getElementById("enrol-code").focus();
  }

  // A Leaflet map in `el` as its data-setup says: the tile layer (if any)
  // and the city's bounds. Works with no tiles at all.
  function baseMap(el) {
    const setup = JSON.parse(el.dataset.setup);
    const map = L.map(el, { keyboard: true, maxZoom: setup.max_zoom });
    if (setup.tile_url) {
      // The attribution is the operator's plain text: escaped, not HTML.
      const attribution = setup.attribution.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
      L.tileLayer(setup.tile_url, { attribution, maxZoom: setup.max_zoom }).addTo(map);
    }
    return { map, setup };
  }

  return { api, submit, showError, clearErrors, collect, baseMap };
})();
