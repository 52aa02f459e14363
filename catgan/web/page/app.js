// catgan's exported explorer: model.onnx through ONNX Runtime Web (WebAssembly), no server needed.
"use strict";

const state = { session: null, info: null, dim: 0, size: 0 };

// --- latents -------------------------------------------------------------------------------------
function randomLatents(seed, n, dim) {
  // mulberry32 + Box-Muller: reproducible in every browser (not torch's generator: the page's own seeds)
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const z = new Float32Array(n * dim);
  for (let i = 0; i < z.length; i++) {
    const u = Math.max(uniform(), 1e-12), v = uniform();
    z[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return z;
}

function fromThree(abc) {          // latent = (a, b, c) · P, as catgan.latent.from_three
  const z = new Float32Array(state.dim);
  for (let r = 0; r < 3; r++) for (let j = 0; j < state.dim; j++) z[j] += abc[r] * state.info.projection[r][j];
  return z;
}

function lerp(a, b, t) { return a.map((v, i) => (1 - t) * v + t * b[i]); }

function slerp(a, b, t) {
  const dot = a.reduce((s, v, i) => s + v * b[i], 0);
  const na = Math.hypot(...a), nb = Math.hypot(...b);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.max(na * nb, 1e-12))));
  if (omega < 1e-4 || Math.abs(omega - Math.PI) < 1e-4) return lerp(a, b, t);
  const s = Math.sin(omega);
  return a.map((v, i) => (Math.sin((1 - t) * omega) * v + Math.sin(t * omega) * b[i]) / s);
}

// --- the generator -------------------------------------------------------------------------------
async function generate(z, n) {
  const feeds = { z: new ort.Tensor("float32", z, [n, state.dim]) };
  if (state.info.w_space) {       // a mapping network: the graph takes psi, truncation towards the mean w
    feeds.psi = new ort.Tensor("float32", Float32Array.of(parseFloat($("psi").value)), [1]);
  }
  const out = await state.session.run(feeds);
  return out.rgb.data;            // n x 3 x H x W, values 0..255
}

function draw(canvas, rgb, index) {
  const s = state.size, plane = s * s, base = index * 3 * plane;
  canvas.width = s; canvas.height = s;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(s, s);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) img.data[4 * p + c] = Math.round(Math.min(255, Math.max(0, rgb[base + c * plane + p])));
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

async function render(container, z, n, cols, cls = "cat") {
  const rgb = await generate(z, n);
  container.style.gridTemplateColumns = `repeat(${cols}, 128px)`;
  while (container.children.length > n) container.lastChild.remove();
  while (container.children.length < n) {
    const c = document.createElement("canvas");
    c.className = cls;
    container.appendChild(c);
  }
  [...container.children].forEach((c, i) => draw(c, rgb, i));
}

function downloadPNG(canvases, cols, name) {
  const s = state.size, rows = Math.ceil(canvases.length / cols), sheet = document.createElement("canvas");
  sheet.width = cols * s; sheet.height = rows * s;
  const ctx = sheet.getContext("2d");
  canvases.forEach((c, i) => ctx.drawImage(c, (i % cols) * s, Math.floor(i / cols) * s));
  const a = document.createElement("a");
  a.href = sheet.toDataURL("image/png"); a.download = name; a.click();
}

// --- the sections --------------------------------------------------------------------------------
const $ = (id) => document.getElementById(id);
const BATCH = 16;

async function batch() {
  const seed = Math.max(0, parseInt($("seed").value, 10) || 0);
  await render($("batch"), randomLatents(seed, BATCH, state.dim), BATCH, 8);
}

async function sliders() {
  const abc = ["a", "b", "c"].map((k) => parseFloat($(k).value));
  ["a", "b", "c"].forEach((k, i) => { $(`${k}-value`).textContent = abc[i].toFixed(2); });
  draw($("slider-image"), await generate(fromThree(abc), 1), 0);
}

const CORNERS = [["top left", [-2, 0, 0]], ["top right", [2, 0, 0]], ["bottom left", [0, -2, 2]],
                 ["bottom right", [0, 2, -2]]];

function cornerInputs() {
  CORNERS.forEach(([name, abc], i) => {
    const box = document.createElement("div");
    box.className = "corner";
    box.innerHTML = `<b>${name}</b><br>` + abc.map((v, j) =>
      `<input type="number" step="0.1" min="-3" max="3" value="${v}" id="corner-${i}-${j}" aria-label="${name} ${"abc"[j]}">`).join(" ");
    $("corners").appendChild(box);
  });
}

async function corners() {
  const n = Math.min(10, Math.max(2, parseInt($("grid-size").value, 10) || 6));
  const mix = $("blend").value === "spherical" ? slerp : lerp;
  const c = CORNERS.map((_, i) => Array.from(fromThree([0, 1, 2].map((j) =>
    parseFloat($(`corner-${i}-${j}`).value) || 0))));
  const z = new Float32Array(n * n * state.dim);
  for (let r = 0; r < n; r++) {
    const left = mix(c[0], c[2], r / (n - 1)), right = mix(c[1], c[3], r / (n - 1));
    for (let k = 0; k < n; k++) z.set(mix(left, right, k / (n - 1)), (r * n + k) * state.dim);
  }
  await render($("corner-grid"), z, n * n, n);
}

async function arithmetic() {
  const seeds = ["ar-start", "ar-sub", "ar-add"].map((id) => Math.max(0, parseInt($(id).value, 10) || 0));
  const [s, m, p] = seeds.map((seed) => randomLatents(seed, 1, state.dim));
  const result = s.map((v, i) => v - m[i] + p[i]);
  const z = new Float32Array(4 * state.dim);
  [s, m, p, result].forEach((v, i) => z.set(v, i * state.dim));
  await render($("arith"), z, 4, 4);
}

// --- start ---------------------------------------------------------------------------------------
async function main() {
  const t0 = performance.now();
  ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;
  ort.env.wasm.numThreads = 1;             // threads need cross-origin isolation, which plain servers lack
  const [info, session] = await Promise.all([
    fetch("model.json").then((r) => r.json()),
    ort.InferenceSession.create("model.onnx", { executionProviders: ["wasm"] }),
  ]);
  Object.assign(state, { info, session, dim: info.latent_dim, size: info.resolution });
  $("title").textContent = `catgan · ${info.name}`;
  $("summary").textContent = info.summary;
  $("metrics").textContent = Object.entries(info.metrics).map(([k, v]) => `${k}: ${+v.toFixed(3)}`).join(" · ");
  $("pseed").textContent = info.projection_seed;
  if (info.w_space) {
    $("psi").value = info.psi;
    $("psi-value").textContent = (+info.psi).toFixed(2);
    $("psi-row").hidden = false;
  }
  await batch();
  window.catganTimings = { firstBatchMs: performance.now() - t0 };
  cornerInputs();
  await Promise.all([sliders(), corners(), arithmetic()]);
  $("status").textContent = `Ready: first batch in ${(window.catganTimings.firstBatchMs / 1000).toFixed(2)} s, ` +
    "generated in this browser.";
  $("status").className = "ok";

  $("new-batch").onclick = () => { $("seed").value = (parseInt($("seed").value, 10) || 0) + BATCH; batch(); };
  $("seed").onchange = batch;
  $("psi").oninput = () => {
    $("psi-value").textContent = parseFloat($("psi").value).toFixed(2);
    Promise.all([batch(), sliders(), corners(), arithmetic()]);
  };
  ["a", "b", "c"].forEach((k) => { $(k).oninput = sliders; });
  $("reset-sliders").onclick = () => { ["a", "b", "c"].forEach((k) => { $(k).value = 0; }); sliders(); };
  $("corners").onchange = corners; $("grid-size").onchange = corners; $("blend").onchange = corners;
  ["ar-start", "ar-sub", "ar-add"].forEach((id) => { $(id).onchange = arithmetic; });
  $("save-batch").onclick = () => downloadPNG([...$("batch").children], 8, "batch.png");
  $("save-sliders").onclick = () => downloadPNG([$("slider-image")], 1, "sliders.png");
  $("save-corners").onclick = () => downloadPNG([...$("corner-grid").children],
    Math.round(Math.sqrt($("corner-grid").children.length)), "corners.png");
  $("save-arith").onclick = () => downloadPNG([...$("arith").children], 4, "arithmetic.png");
  window.catganReady = true;
}

// for tests and embedding: draw one latent (an array of latent_dim numbers) into the hidden #probe canvas
window.catganRender = async (z) => draw($("probe"), await generate(Float32Array.from(z), 1), 0);

main().catch((e) => {
  $("status").textContent = `This page could not start the generator: ${e.message || e}`;
  $("status").className = "error";
  window.catganError = String(e.message || e);
});
