/**
 * @module control/ui/script
 * The browser script of the control-plane page (plain ES2020, no framework, no build step): token
 * handling, polling the admin API every 3 s, rendering tables with `textContent`, and a circular SVG
 * layout of the mesh graph (services on a ring, proxies just outside the service they front, "any
 * caller" at the centre). Kept as a string so the admin app serves it on every runtime without files.
 */
export const UI_SCRIPT = String.raw`"use strict";
(function () {
  var KEY = "weft-admin-token";
  var REFRESH_MS = 3000;
  var SVG = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };

  var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  var token = sessionStorage.getItem(KEY);

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c) {
      var td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? "" : String(c);
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(tbody, rows, cols, emptyText) {
    tbody.replaceChildren();
    if (rows.length === 0) {
      var tr = document.createElement("tr");
      var td = el("td", emptyText, "empty");
      td.colSpan = cols;
      tr.appendChild(td);
      tbody.appendChild(tr);
      return;
    }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  function badge(text, cls) { return el("span", text, "badge " + (cls || text)); }
  function ago(ms) {
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 120) return s + " s ago";
    if (s < 7200) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }
  function until(ms) {
    var s = Math.round((ms - Date.now()) / 1000);
    if (s <= 0) return "expired";
    if (s < 7200) return "in " + Math.round(s / 60) + " min";
    return "in " + Math.round(s / 3600) + " h";
  }

  function showLogin(message) {
    $("login").hidden = false;
    $("status").textContent = message;
  }
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    token = $("token").value.trim();
    if (!token) return;
    sessionStorage.setItem(KEY, token);
    $("login").hidden = true;
    refresh();
  });

  function api(path) {
    return fetch(path, { headers: { authorization: "Bearer " + token } }).then(function (r) {
      if (r.status === 401) { var e = new Error("unauthorized"); e.unauthorized = true; throw e; }
      if (!r.ok) throw new Error(path + ": HTTP " + r.status);
      return r.json();
    });
  }

  function renderServices(data) {
    fill($("services"), data.services.map(function (s) {
      var eps = s.endpoints || {};
      var health = el("span");
      health.appendChild(document.createTextNode((eps.healthy || 0) + "/" + (eps.total || 0) + " healthy "));
      if (eps.unhealthy) health.appendChild(badge(eps.unhealthy + " unhealthy", "unhealthy"));
      return row([s.id, (s.hosts || []).join(", "), (s.ports || []).map(function (p) { return p.port + "/" + p.protocol; }).join(", "), health]);
    }), 4, "no services yet (apply a ServiceEntry or add --discovery files)");
  }
  function renderEndpoints(data) {
    var rows = [];
    data.endpoints.forEach(function (se) {
      se.endpoints.forEach(function (e) { rows.push(row([se.service + ":" + se.port, e.address + ":" + e.port, badge(e.health)])); });
    });
    fill($("endpoints"), rows, 3, "no endpoints");
  }
  function renderProxies(data) {
    fill($("proxies"), data.nodes.map(function (n) {
      var acked = Object.keys(n.acked || {}).sort().map(function (t) { return t + " " + n.acked[t]; }).join(", ");
      var nack = n.lastNack ? el("span") : badge("none", "ok");
      if (n.lastNack) {
        nack.appendChild(badge(n.lastNack.type, "nack"));
        nack.appendChild(document.createTextNode(" " + n.lastNack.message + " (" + ago(n.lastNack.at) + ")"));
      }
      var exp = n.certificateExpiry ? badge(until(n.certificateExpiry), n.certificateExpiry - Date.now() < 3600000 ? "expiring" : "ok") : "—";
      return row([n.id, ago(n.connectedSince), acked || "—", nack, exp]);
    }), 5, "no proxies connected");
  }

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var EDGE_COLOR = { allow: "#12805c", deny: "#c4320a", audit: "#b54708", custom: "#6941c6", serves: "#98a2b3" };
  function renderGraph(g) {
    var root = $("graph");
    root.replaceChildren();
    var defs = svg("defs", {});
    Object.keys(EDGE_COLOR).forEach(function (k) {
      var mk = svg("marker", { id: "arrow-" + k, viewBox: "0 0 10 10", refX: 18, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      mk.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: EDGE_COLOR[k] }));
      defs.appendChild(mk);
    });
    root.appendChild(defs);
    var cx = 450, cy = 230, R = 140;
    var pos = {};
    var services = g.nodes.filter(function (n) { return n.kind === "service"; });
    services.forEach(function (n, i) {
      var a = (2 * Math.PI * i) / Math.max(1, services.length) - Math.PI / 2;
      pos[n.id] = { x: cx + R * Math.cos(a), y: cy + R * Math.sin(a), a: a };
    });
    var loose = 0;
    g.nodes.filter(function (n) { return n.kind === "proxy"; }).forEach(function (n) {
      var serves = g.edges.find(function (e) { return e.from === n.id && e.kind === "serves"; });
      var base = serves && pos[serves.to];
      if (base) {
        base.proxies = (base.proxies || 0) + 1;
        var a = base.a + (base.proxies - 1) * 0.18;
        pos[n.id] = { x: cx + (R + 55) * Math.cos(a), y: cy + (R + 55) * Math.sin(a) };
      } else {
        pos[n.id] = { x: 60 + (loose % 8) * 110, y: 440 - Math.floor(loose / 8) * 30 };
        loose++;
      }
    });
    g.nodes.filter(function (n) { return n.kind === "any"; }).forEach(function (n) { pos[n.id] = { x: cx, y: cy }; });
    g.edges.forEach(function (e) {
      var a = pos[e.from], b = pos[e.to];
      if (!a || !b) return;
      var line = svg("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: EDGE_COLOR[e.kind] || "#667085", "stroke-width": e.kind === "serves" ? 1 : 2, "marker-end": e.kind === "serves" ? "" : "url(#arrow-" + e.kind + ")" });
      if (e.kind === "deny") line.setAttribute("stroke-dasharray", "5 3");
      line.appendChild(svg("title", {}, e.kind + (e.policy ? " by " + e.policy : "")));
      root.appendChild(line);
    });
    g.nodes.forEach(function (n) {
      var p = pos[n.id];
      if (!p) return;
      var grp = svg("g", { "data-node": n.id });
      if (n.kind === "service") {
        var h = n.health || {};
        var bad = (h.unhealthy || 0) > 0;
        grp.appendChild(svg("circle", { cx: p.x, cy: p.y, r: 14, fill: bad ? "#fee4e2" : "#d1fadf", stroke: bad ? "#c4320a" : "#12805c", "stroke-width": 2 }));
      } else if (n.kind === "proxy") {
        grp.appendChild(svg("rect", { x: p.x - 8, y: p.y - 8, width: 16, height: 16, fill: n.health === "nack" ? "#fee4e2" : "#eaecf0", stroke: n.health === "nack" ? "#c4320a" : "#667085" }));
      } else {
        grp.appendChild(svg("circle", { cx: p.x, cy: p.y, r: 10, fill: "#fff", stroke: "#667085", "stroke-dasharray": "3 2" }));
      }
      grp.appendChild(svg("text", { x: p.x, y: p.y + (n.kind === "service" ? 28 : 22), "text-anchor": "middle" }, n.label));
      root.appendChild(grp);
    });
    if (g.nodes.length === 0) root.appendChild(svg("text", { x: cx, y: cy, "text-anchor": "middle" }, "nothing to draw yet"));
  }

  var timer = null;
  function refresh() {
    if (!token) { showLogin("enter the admin token"); return; }
    Promise.all([api("/v1/registry/services"), api("/v1/registry/endpoints"), api("/v1/mesh/nodes"), api("/v1/mesh/graph")]).then(function (r) {
      renderServices(r[0]);
      renderEndpoints(r[1]);
      renderProxies(r[2]);
      renderGraph(r[3]);
      $("status").textContent = r[0].services.length + " services · " + r[2].nodes.length + " proxies · registry revision " + r[0].revision + " · updated " + new Date().toLocaleTimeString();
      document.body.setAttribute("data-loaded", "true");
    }, function (err) {
      if (err.unauthorized) { sessionStorage.removeItem(KEY); token = null; showLogin("the admin token was refused"); return; }
      $("status").textContent = "cannot reach the control plane: " + err.message;
    });
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_MS);
  }
  refresh();
})();
`;
