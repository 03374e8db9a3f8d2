// echosr-edge live view. One WebSocket: binary messages are frames (see frames.py for the
// layout), text messages are the run's state. After drawing a frame the page sends "next";
// the server then sends the newest frame, so a slow device simply shows fewer frames.
"use strict";

const $ = (id) => document.getElementById(id);
const STATUS_TEXT = {
  starting: "starting", live: "live", stalled: "source stalled",
  reconnecting: "reconnecting", stopped: "stopped", offline: "connection lost",
};
const ALERT_TEXT = {
  stalled: "The source has stopped sending frames.",
  reconnecting: "The source was lost; reconnecting…",
  stopped: "The pipeline has stopped.",
};

let socket = null;
let retries = 0;
let lastSeq = 0;
let skipped = 0;
let shown = 0;
let state = null;
let connected = false;

function pct(p) {
  return typeof p === "number" ? `${Math.round(p * 100)}%` : "";
}

function ms(v) {
  return typeof v === "number" ? `${v.toFixed(1)} ms` : "—";
}

function setMetric(key, value, confidence) {
  let row = $(`label-${key}`);
  if (!row) {
    row = document.createElement("div");
    row.className = "metric";
    row.id = `label-${key}`;
    for (const cls of ["k", "v", "c"]) {
      const span = document.createElement("span");
      span.className = cls;
      row.appendChild(span);
    }
    row.querySelector(".k").textContent = key.charAt(0).toUpperCase() + key.slice(1);
    $("labels").insertBefore(row, $("label-enhanced"));
  }
  row.querySelector(".v").textContent = value ?? "—";
  row.querySelector(".c").textContent = pct(confidence);
}

function quality(record) {
  const q = record.quality;
  if (typeof q === "string") return [q, record.probabilities?.quality?.[q]];
  if (q && typeof q === "object") {
    const tier = q.tier ?? q.label ?? null;
    return [tier, q.confidence ?? q.probability ?? record.probabilities?.quality?.[tier]];
  }
  const tier = record.labels?.quality;
  return tier ? [tier, record.probabilities?.quality?.[tier]] : [null, undefined];
}

function showStats(stats) {
  if (!stats) return;
  $("stat-fps").textContent = typeof stats.fps === "number" ? stats.fps.toFixed(1) : "—";
  $("stat-p50").textContent = ms(stats.p50_ms);
  $("stat-p95").textContent = ms(stats.p95_ms);
  $("stat-dropped").textContent = stats.dropped ?? "—";
}

function showRecord(header) {
  const record = header.record || {};
  const labels = record.labels || {};
  const probs = record.probabilities || {};
  for (const key of ["view", "phase", ...Object.keys(labels)]) {
    if (key === "quality") continue;
    setMetric(key, labels[key], probs[key]?.[labels[key]]);
  }
  const [tier, conf] = quality(record);
  setMetric("quality", tier, conf);
  const enhanced = record.enhanced;
  // Never "enhanced" when SR scored below bicubic against the original at start-up.
  const belowBicubic = state?.pane?.sr_check?.beats_bicubic === false;
  setMetric("enhanced", enhanced === true ? (belowBicubic ? "SR, below bicubic" : "yes") : enhanced === false ? "no" : null);
  const flag = $("enhanced-flag");
  flag.textContent = enhanced === true ? (belowBicubic ? "SR applied (below bicubic)" : "enhanced (SR)")
    : enhanced === false ? "not enhanced" : "—";
  flag.dataset.on = String(enhanced === true);
  $("stat-frame").textContent = record.frame ?? header.seq;
  if (lastSeq && header.seq > lastSeq + 1) skipped += header.seq - lastSeq - 1;
  lastSeq = header.seq;
  $("stat-skipped").textContent = skipped;
  showStats(header.stats);
  shown += 1;
  document.body.dataset.frames = String(shown);
  document.body.dataset.seq = String(header.seq);
}

function draw(id, bitmap) {
  const canvas = $(id);
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  bitmap.close();
}

async function onFrame(buffer) {
  try {
    const n = new DataView(buffer).getUint32(0);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
    const [a, b] = header.sizes;
    const start = 4 + n;
    const jpeg = (from, to) => createImageBitmap(new Blob([buffer.slice(from, to)], { type: "image/jpeg" }));
    const [original, enhanced] = await Promise.all([jpeg(start, start + a), jpeg(start + a, start + a + b)]);
    // Both images and their labels change in the same paint.
    requestAnimationFrame(() => {
      draw("original", original);
      draw("enhanced", enhanced);
      showRecord(header);
      ask();
    });
  } catch (err) {
    console.warn("frame skipped:", err);
    ask();
  }
}

function ask() {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send("next");
}

function showBanner(text, tone) {
  const banner = $("banner");
  banner.hidden = !text;
  banner.textContent = text || "";
  banner.dataset.tone = tone || "";
}

function render() {
  const status = connected ? (state?.status ?? "starting") : "offline";
  const pill = $("status");
  pill.dataset.status = status;
  pill.textContent = STATUS_TEXT[status] ?? status;
  if (!connected) {
    showBanner("Connection to the device lost; retrying…", "error");
  } else if (state && ALERT_TEXT[state.status]) {
    const msg = state.message ? ` ${state.message}` : "";
    showBanner(ALERT_TEXT[state.status] + msg, state.status === "stopped" ? "error" : "warn");
  } else {
    showBanner("");
  }
  if (!state) return;
  for (const button of document.querySelectorAll("[data-mode]")) {
    const mode = button.dataset.mode;
    button.setAttribute("aria-pressed", String(mode === state.enhance_mode));
    button.disabled = !state.mode_control || !state.enhance_modes.includes(mode);
  }
  const freeze = $("freeze");
  freeze.textContent = state.frozen ? "Resume" : "Freeze";
  freeze.setAttribute("aria-pressed", String(state.frozen));
  document.body.classList.toggle("frozen", state.frozen);
  $("snapshot").disabled = !state.snapshots;
  if (state.pane?.title) $("enhanced-title").textContent = state.pane.title;
  $("stat-clients").textContent = state.clients ?? "—";
  showStats(state.stats);
}

function onState(message) {
  if (message.type !== "state") return;
  state = message;
  render();
}

let toastTimer = null;
function toast(text, isError) {
  const el = $("toast");
  el.textContent = text;
  el.dataset.error = String(Boolean(isError));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.textContent = ""; }, 6000);
}

async function control(path, body) {
  try {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    const reply = await res.json().catch(() => ({}));
    if (!res.ok) {
      toast(reply.error || `the device refused (${res.status})`, true);
      return null;
    }
    if (reply.state) onState(reply.state);
    return reply.result;
  } catch (err) {
    toast("the device did not answer", true);
    return null;
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(`${scheme}${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    retries = 0;
    connected = true;
    render();
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") onState(JSON.parse(event.data));
    else onFrame(event.data);
  };
  socket.onclose = () => {
    connected = false;
    render();
    const delay = Math.min(5000, 250 * 2 ** retries++);
    setTimeout(connect, delay);
  };
}

function init() {
  for (const button of document.querySelectorAll("[data-mode]")) {
    button.addEventListener("click", async () => {
      const mode = await control("/api/enhance", { mode: button.dataset.mode });
      if (mode) toast(`Enhancement: ${mode}`);
    });
  }
  $("freeze").addEventListener("click", () => control("/api/freeze", { frozen: !(state && state.frozen) }));
  $("snapshot").addEventListener("click", async () => {
    const saved = await control("/api/snapshot", {});
    if (saved) toast(`Saved ${saved.record} with its two images`);
  });
  $("hide-enhanced").addEventListener("click", () => {
    const pane = $("enhanced-pane");
    pane.hidden = !pane.hidden;
    $("hide-enhanced").textContent = pane.hidden ? "Show model pane" : "Hide model pane";
    $("hide-enhanced").setAttribute("aria-pressed", String(pane.hidden));
  });
  connect();
}

init();
