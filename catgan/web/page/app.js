// catgan's exported explorer: model.onnx through ONNX Runtime Web (WebAssembly), no server needed.
"use strict";

const state = { session: null, info: null, dim: 0, size: 0, labels: null, labelDim: 0 };

// --- latents -------------------------------------------------------------------------------------
function prng(seed, salt = 0x9e3779b9) {
  // mulberry32: reproducible in every browser (not torch's generator: the page's own seeds)
  let s = (seed >>> 0) ^ salt;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomLatents(seed, n, dim) {      // N(0, 1) by Box-Muller
  const uniform = prng(seed);
  const z = new Float32Array(n * dim);
  for (let i = 0; i < z.length; i++) {
    const u = Math.max(uniform(), 1e-12), v = uniform();
    z[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return z;
}

// --- a conditional model's labels: the kind of cat ------------------------------------------------
function heldKind() {               // attribute index -> value index, for the attributes not left at "any"
  const held = {};
  Object.keys(state.labels.attributes).forEach((name, a) => {
    const v = $(`kind-${name}`).value;
    if (v !== "any") held[a] = parseInt(v, 10);
  });
  return held;
}

function labelVectors(seed, n) {
  // each sample's label: the held values, the rest drawn from the training data's mix among such cats
  // (uniformly where the data has none), one-hots side by side as catgan.labels
  const sizes = Object.values(state.labels.attributes).map((v) => v.length), held = heldKind();
  const pool = state.labels.mix.filter(([label]) => Object.entries(held).every(([a, v]) => label[a] === v));
  const total = pool.reduce((s, [, share]) => s + share, 0), uniform = prng(seed, 0x5bd1e995);
  const c = new Float32Array(n * state.labelDim);
  for (let i = 0; i < n; i++) {
    let label;
    if (pool.length) {
      let r = uniform() * total, k = 0;
      while (k < pool.length - 1 && (r -= pool[k][1]) > 0) k++;
      label = pool[k][0];
    } else {
      label = sizes.map((size, a) => (a in held ? held[a] : Math.floor(uniform() * size)));
    }
    let offset = 0;
    label.forEach((v, a) => { c[i * state.labelDim + offset + v] = 1; offset += sizes[a]; });
  }
  return c;
}

function kindInputs() {
  Object.entries(state.labels.attributes).forEach(([name, values]) => {
    const box = document.createElement("label");
    box.innerHTML = `${name} <select id="kind-${name}"><option value="any">any</option>` +
      values.map((v, i) => `<option value="${i}">${v}</option>`).join("") + "</select>";
    $("kind").appendChild(box);
  });
  $("kind-row").hidden = false;
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
async function generate(z, n, c = null) {
  const feeds = { z: new ort.Tensor("float32", z, [n, state.dim]) };
  if (state.labels) {             // a conditional model: the label vectors (by default the kind's, seed 0)
    feeds.c = new ort.Tensor("float32", c || repeat(labelVectors(0, 1), n), [n, state.labelDim]);
  }
  if (state.info.w_space) {       // a mapping network: the graph takes psi, truncation towards the mean w
    feeds.psi = new ort.Tensor("float32", Float32Array.of(parseFloat($("psi").value)), [1]);
  }
  const out = await state.session.run(feeds);
  return out.rgb.data;            // n x 3 x H x W, values 0..255
}

function repeat(v, n) {
  const out = new Float32Array(n * v.length);
  for (let i = 0; i < n; i++) out.set(v, i * v.length);
  return out;
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

async function render(container, z, n, cols, c = null, cls = "cat") {
  const rgb = await generate(z, n, c);
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
  await render($("batch"), randomLatents(seed, BATCH, state.dim), BATCH, 8,
    state.labels && labelVectors(seed, BATCH));
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
  let c = null;
  if (state.labels) {             // each seed's own label; the result's is their sum and difference too
    const [cs, cm, cp] = seeds.map((seed) => labelVectors(seed, 1));
    c = new Float32Array(4 * state.labelDim);
    [cs, cm, cp, cs.map((v, i) => v - cm[i] + cp[i])].forEach((v, i) => c.set(v, i * state.labelDim));
  }
  await render($("arith"), z, 4, 4, c);
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
  Object.assign(state, { info, session, dim: info.latent_dim, size: info.resolution, labels: info.labels });
  if (info.labels) {
    state.labelDim = Object.values(info.labels.attributes).reduce((s, v) => s + v.length, 0);
    kindInputs();
  }
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
  if (state.labels) $("kind").onchange = () => Promise.all([batch(), sliders(), corners(), arithmetic()]);
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

// for tests and embedding: draw one latent (an array of latent_dim numbers; a conditional model's label
// vector as c) into the hidden #probe canvas
window.catganRender = async (z, c = null) =>
  draw($("probe"), await generate(Float32Array.from(z), 1, c && Float32Array.from(c)), 0);

main().catch((e) => {
  $("status").textContent = `This page could not start the generator: ${e.message || e}`;
  $("status").className = "error";
  window.catganError = String(e.message || e);
});
