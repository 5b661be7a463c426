#!/usr/bin/env node
// Corpus + answers for t/js-semantics.t: node is the reference for the
// core's JavaScript semantics.  Run with TZ=UTC (the core takes local time
// as UTC).
//
//   node t/js-semantics.js MODE SEED COUNT   ->  lines "<input>\t<answer>"
//
// Inputs are hex of UTF-8 (numstr: hex of the IEEE-754 bits); answers as
// build/tools/statsig-js prints them (see t/js_driver.c).
'use strict';

const [mode, seedArg, countArg] = process.argv.slice(2);
let seed = Number(seedArg) >>> 0;
const count = Number(countArg);

function rnd() {            // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const hex = (s) => Buffer.from(s, 'utf8').toString('hex');
const f64 = new Float64Array(1);
const u8 = new Uint8Array(f64.buffer);
function bits(d) {
  if (Number.isNaN(d)) return 'NaN';
  f64[0] = d;
  return Array.from(u8).reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
}
function fromBits() {
  for (let i = 0; i < 8; i++) u8[i] = int(256);
  return f64[0];
}

const DATE_TOKENS = [
  '2024', '1999', '99', '12', '13', '49', '50', '0', '00', '1', '2', '31', '32', '7',
  '-1', '+002024', '-000001', '275760', '-271821', '10000', '1970', '2038',
  'Jan', 'January', 'feb', 'FEB', 'Sept', 'sep', 'DEC', 'mar', 'Ma', 'june', 'Jul.',
  'Mon', 'tuesday', 'Sun,', 'Fri', 'T', 't', 'Z', 'z', 'GMT', 'UTC', 'UT', 'EST', 'PDT',
  'CDT', 'MST', '+02:00', '-0530', '+0000', 'GMT+0100', 'UTC-7', '+5', '(comment)',
  '(nested (x))', '10:00', '03:04:05', '23:59:59.999', '24:00', '24:00:00',
  '12:00:00.1234', '1:2:3', '25:00', '12:60', 'PM', 'pm', 'AM', 'a.m.', 'noon',
  '2024-01-02', '2024-1-2', '2024-13-01', '2024-02-29', '2023-02-29', '2024/01/02',
  '01/02/2024', '1/2/24', '2024-01-02T03:04:05Z', 'T03:04:05', '.123', '.5Z',
  'Z+01:00', ' ', ' ', ' ', '  ', '-', '/', ',', '.', ':', 'T', 'x', 'abc', '\u00a0',
  'st', 'nd', 'th', 'of', '+', '1e3', '0x10',
];

function randomDate() {
  const r = rnd();
  let t;
  if (r < 0.7) t = Date.UTC(1900, 0, 1) + rnd() * (Date.UTC(2100, 0, 1) - Date.UTC(1900, 0, 1));
  else if (r < 0.9) t = (rnd() * 2 - 1) * 8.64e15;
  else t = (rnd() * 2 - 1) * 1e11;
  t = Math.floor(t);
  if (int(3) === 0) t = t - (t % 1000);
  return new Date(t);
}

function dateCase() {
  const r = rnd();
  if (r < 0.45) {
    const n = 1 + int(6);
    let s = '';
    for (let i = 0; i < n; i++) s += pick(DATE_TOKENS) + (int(3) ? pick([' ', '', '-', '/', ',', 'T']) : '');
    if (int(4) === 0) s = s.trim();
    return s;
  }
  if (r < 0.8) {
    const d = randomDate();
    if (Number.isNaN(d.getTime())) return 'Invalid Date';
    let s = pick([() => d.toISOString(), () => d.toString(), () => d.toUTCString(),
      () => d.toISOString().slice(0, 10), () => d.toISOString().replace('T', ' '),
      () => d.toISOString().replace('Z', '+00:00'), () => d.toISOString().replace(/\.\d+Z$/, 'Z'),
      () => d.toDateString(), () => d.toLocaleString('en-US', { timeZone: 'UTC' })])();
    if (int(5) === 0) {        // mutate: drop, duplicate or replace a character
      const i = int(s.length + 1);
      const m = int(3);
      s = m === 0 ? s.slice(0, i) + s.slice(i + 1)
        : m === 1 ? s.slice(0, i) + s.charAt(i) + s.slice(i)
          : s.slice(0, i) + pick(DATE_TOKENS) + s.slice(i + 1);
    }
    return s;
  }
  if (r < 0.95) {
    const v = pick([int(2e9), int(1e10), int(2e12), -int(1e9), int(100), int(100000)]);
    return String(v);
  }
  return String(rnd() * 1e10);
}

const NUM_CHARS = '0123456789.eE+-xXobOB_ \t\n';
const NUM_WORDS = ['Infinity', '-Infinity', '+Infinity', 'infinity', 'NaN', '0x', '0b', '0o',
  '\u00a0', '\u2028', '\ufeff', '\u3000', '\u1680', '\u180e', ' ', '1e', 'e5', '.', '00'];

function numberText() {
  const r = rnd();
  if (r < 0.3) {
    let s = '';
    const n = 1 + int(10);
    for (let i = 0; i < n; i++) s += NUM_CHARS[int(NUM_CHARS.length)];
    return s;
  }
  if (r < 0.5) {
    let s = '';
    const n = 1 + int(4);
    for (let i = 0; i < n; i++) s += int(2) ? pick(NUM_WORDS) : String(int(1000));
    return s;
  }
  const d = randomNumber();
  const f = pick([() => String(d), () => d.toExponential(int(20)), () => d.toFixed(int(10)),
    () => d.toPrecision(1 + int(21)), () => '0x' + Math.floor(Math.abs(d)).toString(16),
    () => ' ' + String(d) + '\n', () => String(d).replace('e', 'E'),
    () => String(d) + '0000', () => '000' + String(d)]);
  try { return f(); } catch (e) { return String(d); }
}

function randomNumber() {
  const r = rnd();
  if (r < 0.3) return fromBits();
  if (r < 0.5) return int(2 ** 31) * (int(2) ? 1 : -1);
  if (r < 0.65) return Number((rnd() * 10 ** (int(40) - 20)).toPrecision(1 + int(17)));
  if (r < 0.75) return 10 ** (int(60) - 30) * (1 + int(9));
  if (r < 0.85) return (rnd() - 0.5) * 2 ** (int(2100) - 1075);
  if (r < 0.9) return pick([0, -0, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 1e21,
    1e-7, 0.1 + 0.2, 2 ** 53, 2 ** 63, 1e-6, 999999999999999900000]);
  return Math.floor(rnd() * 2 ** 53) / 2 ** int(60);
}

// code points for toLowerCase: ASCII, Latin, Greek (final sigma), Turkish,
// Cyrillic, Armenian, Georgian, Cherokee, Deseret, combining marks, CJK ...
const LOWER_POOL = [
  ...'ABCXYZabcxyz019 .,-_@\'', 'Σ', 'Σ', 'Σ', 'σ', 'ς', 'Α', 'ά', 'Ὰ', 'ᾼ', 'İ', 'I', 'ı', 'i',
  'Ä', 'Ö', 'ẞ', 'ß', 'ǅ', 'ǈ', 'ǋ', 'ǲ', 'Ω', 'K', 'Å', 'Ⅻ', 'Ⓐ', 'Ａ', 'Ж', 'Ё', 'Ѡ', 'Ա',
  'Ⴀ', 'Ꭰ', 'Ᏸ', '\u0307', '\u0301', '\u0345', '\u200d', '𐐀', '𐓀', '𞤀', '😀', '中', 'ﬀ', 'Ǆ',
  'Ꙁ', 'Ɀ', 'Ꞔ', 'Ｚ', '𝐀', '\u00ad', '\u2126', '\u212a', '\u212b', '\u1e9e', '\u03f4', '\u1fbc',
];

function lowerText() {
  const n = int(12);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (int(5) === 0) {
      let cp = int(0x10000);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
      if (int(10) === 0) cp = 0x10000 + int(0x20000);
      s += String.fromCodePoint(cp);
    } else {
      s += pick(LOWER_POOL);
    }
  }
  return s;
}

const out = [];
for (let i = 0; i < count; i++) {
  if (mode === 'date') {
    const s = dateCase();
    const v = Date.parse(s);
    out.push(hex(s) + '\t' + (Number.isNaN(v) ? 'NaN' : String(v)));
  } else if (mode === 'tonum') {
    const s = numberText();
    out.push(hex(s) + '\t' + bits(Number(s)));
  } else if (mode === 'parseint') {
    const s = numberText();
    out.push(hex(s) + '\t' + bits(parseInt(s)));
  } else if (mode === 'numstr') {
    let d = randomNumber();
    if (Number.isNaN(d)) d = 1;
    out.push(bits(d) + '\t' + String(d));
  } else if (mode === 'lower') {
    const s = lowerText();
    out.push(hex(s) + '\t' + hex(s.toLowerCase()));
  } else {
    console.error(`unknown mode ${mode}`);
    process.exit(2);
  }
}
process.stdout.write(out.join('\n') + '\n');
