// The topology page: polls the control plane's JSON endpoints every second and redraws.
// Everything the endpoints return is shown with textContent, never parsed as HTML.
"use strict";

const POLL_MS = 1000;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + " answered " + r.status);
  return r.json();
}

function clusterState(c) {
  if (c.staleReason) return "stale";
  return c.synced ? "synced" : "syncing";
}

function drawControlPlane(status) {
  const box = document.getElementById("control-plane");
  const leader = status.leader && status.leader.identity
      ? (status.leader.leader ? ", leader" : ", standby (leader " + status.leader.holder + ")") : "";
  box.replaceChildren(
      el("strong", {}, "control plane"), " of cluster ", el("span", { id: "cp-cluster" }, status.clusterId),
      " · mesh " + status.meshId, " · " + (status.ready ? "ready" : "not ready") + leader,
      " · snapshot " + status.snapshotVersion, " · " + status.services + " services");
}

function drawNetworks(status, topology) {
  const byNetwork = new Map();
  const network = n => {
    if (!byNetwork.has(n)) byNetwork.set(n, { clusters: [], gateways: [] });
    return byNetwork.get(n);
  };
  for (const n of topology.networks) network(n);
  // A cluster is drawn in every network it has endpoints or gateways in (/debug/topology says which).
  for (const c of status.clusters) {
    for (const n of topology.clusterNetworks[c.clusterId] || [c.network || ""]) network(n).clusters.push(c);
  }
  for (const g of topology.gateways) network(g.network).gateways.push(g);
  const boxes = [];
  for (const [name, n] of [...byNetwork.entries()].sort()) {
    const box = el("div", { class: "network", "data-network": name },
        el("h3", {}, "network " + (name || "(default)")));
    for (const c of n.clusters) {
      const state = clusterState(c);
      const row = el("div", { class: "box cluster", "data-cluster": c.clusterId, "data-state": state },
          el("strong", {}, c.clusterId), el("span", { class: "badge " + state }, state),
          el("div", {}, c.services + " services, " + c.endpoints + " endpoints"));
      if (c.staleReason) row.append(el("div", { class: "reason" }, c.staleReason));
      box.append(row);
    }
    for (const g of n.gateways) {
      box.append(el("div", { class: "gateway", "data-gateway": g.address + ":" + g.port },
          "gateway " + g.address + ":" + g.port + " (" + g.cluster + ")"));
    }
    if (n.gateways.length === 0) box.append(el("div", { class: "empty" }, "no east-west gateway"));
    boxes.push(box);
  }
  document.getElementById("networks").replaceChildren(...boxes);
}

function rows(tableId, items, cells, emptyText) {
  const body = document.querySelector("#" + tableId + " tbody");
  const cols = document.querySelectorAll("#" + tableId + " th").length;
  if (items.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { class: "empty", colspan: cols }, emptyText)));
    return;
  }
  body.replaceChildren(...items.map(i => el("tr", {}, ...cells(i).map(c => c instanceof Node ? c : el("td", {}, c ?? "")))));
}

function drawServices(topology) {
  rows("services", topology.services, s => [s.hostname, s.namespace,
      s.endpoints.map(e => e.cluster + "/" + (e.network || "(default)") + ": " + e.healthy + "/" + e.endpoints)
          .join(", ") || "none"], "no services");
}

function drawProxies(status) {
  rows("proxies", status.proxies, p => [p.id, p.clusterId, p.network, p.namespace, p.protocol, p.peer],
      "no proxies connected");
}

function drawFindings(analysis) {
  rows("findings", analysis.findings, f => [el("td", { class: "sev-" + f.severity }, f.severity), f.code,
      f.resource, f.origin, f.message], "no findings");
}

async function refresh() {
  const line = document.getElementById("connection");
  try {
    const [status, topology, analysis] = await Promise.all(
        [getJson("../debug/status"), getJson("../debug/topology"), getJson("../debug/analyze")]);
    drawControlPlane(status);
    drawNetworks(status, topology);
    drawServices(topology);
    drawProxies(status);
    drawFindings(analysis);
    line.className = "connection";
    line.textContent = "updated " + new Date().toLocaleTimeString() + " (every " + POLL_MS / 1000 + " s)";
  } catch (e) {
    // Keep the last picture; say that it is no longer current.
    line.className = "connection down";
    line.textContent = "control plane not answering: " + e.message + " (showing the last answer)";
  } finally {
    setTimeout(refresh, POLL_MS);
  }
}

refresh();
