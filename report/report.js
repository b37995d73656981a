// The script of lsweep's HTML report: a 3-D view of a surface in plain
// WebGL, a line chart of a curve in SVG, and the picture lightbox. It reads
// the JSON block #lsweep-data and reports its state in the body's
// data-lsweep-status attribute ("ok", "no-webgl" or "error: ...").
(function () {
  'use strict';

  var body = document.body;
  var errors = [];
  var selftest = location.hash === '#lsweep-selftest';

  function setStatus(s) {
    if (errors.length === 0 || s.indexOf('error') === 0) body.setAttribute('data-lsweep-status', s);
  }
  function fail(msg) {
    errors.push(String(msg));
    body.setAttribute('data-lsweep-status', 'error: ' + errors.join('; '));
  }
  window.addEventListener('error', function (e) {
    if (e.message) {
      fail(e.message + (e.filename ? ' (line ' + e.lineno + ')' : ''));
    } else if (e.target && e.target !== window) {
      fail('could not load a ' + String(e.target.tagName).toLowerCase());
    }
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    fail('unhandled rejection: ' + (e.reason && e.reason.message || e.reason));
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    fail('content security policy: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline code'));
  });
  var consoleError = console.error;
  console.error = function () {
    fail(Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }
  // SVG is the SVG namespace, taken from the parser rather than written out.
  var SVG = (function () {
    var d = document.createElement('div');
    d.innerHTML = '<svg></svg>';
    return d.firstChild.namespaceURI;
  })();
  function svg(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // ---- numbers ----

  // PALETTE holds the colour map's stops, equally spaced over [0, 1], as
  // Go's package render samples it (the page data's "palette"); set once
  // the data is read.
  var PALETTE = [[0, 0, 0], [255, 255, 255]];

  // colour returns the colour of t in [0, 1] as r, g, b in [0, 1].
  function colour(t) {
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    var n = PALETTE.length - 1;
    var f = t * n, i = Math.min(n - 1, Math.floor(f)), u = f - i;
    var a = PALETTE[i], b = PALETTE[i + 1];
    return [(a[0] + (b[0] - a[0]) * u) / 255, (a[1] + (b[1] - a[1]) * u) / 255, (a[2] + (b[2] - a[2]) * u) / 255];
  }

  // fmt writes v with about four significant digits.
  function fmt(v) {
    if (!isFinite(v)) return 'not computed';
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3).replace(/\.?0+e/, 'e');
    var s = v.toPrecision(4);
    if (s.indexOf('.') >= 0 && s.indexOf('e') < 0) s = s.replace(/0+$/, '').replace(/\.$/, '');
    return s === '-0' ? '0' : s;
  }

  // fmtTick writes a tick value v of a scale whose ticks are step apart.
  function fmtTick(v, step) {
    if (Math.abs(v) < step * 1e-6) v = 0;
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(Math.max(0, Math.min(6, Math.round(Math.log10(a / step))))).replace('e+', 'e');
    var d = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
    return v.toFixed(d);
  }

  // niceTicks returns about n round numbers spanning [lo, hi] and their step.
  function niceTicks(lo, hi, n) {
    var span = hi - lo;
    if (!(span > 0)) return { values: [lo], step: Math.abs(lo) || 1 };
    var raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    var step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    var values = [];
    for (var v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return { values: values, step: step };
  }

  function range(a) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < a.length; i++) {
      var v = a[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return [lo, hi];
  }

  // scale maps the values of a channel to heights: values above clip are
  // clipped, then, on a log scale, log10(v + off) is taken, where off makes
  // the smallest value positive. lo and hi bound the heights; ticks returns
  // tick heights with labels in the channel's units. A range [lo, hi]
  // (the loss's, when the pictures fix it) replaces the values' own, and
  // values beyond it take the nearer end.
  function scale(values, log, clip, range) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (isFinite(v)) {
        if (v > clip) v = clip;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    var fixed = range && range.length === 2 && lo <= hi;
    if (fixed) {
      lo = range[0];
      hi = Math.min(range[1], clip);
      if (!(hi > lo)) hi = range[1];
    }
    var s = { ok: lo <= hi, log: log, off: 0, clip: clip };
    if (!s.ok) return s;
    if (log && lo <= 0) s.off = -lo + ((hi - lo) * 1e-3 || 1);
    s.f = function (v) {
      if (v > clip) v = clip;
      if (fixed) v = Math.min(Math.max(v, lo), hi);
      return log ? Math.log10(v + s.off) : v;
    };
    s.inv = function (z) { return log ? Math.pow(10, z) - s.off : z; };
    s.lo = s.f(lo);
    s.hi = s.f(hi);
    if (!(s.hi > s.lo)) { // a flat surface: centre it
      var pad = log ? 0.5 : (Math.abs(s.lo) * 0.1 || 1);
      s.lo -= pad;
      s.hi += pad;
    }
    s.ticks = function (n) { return log ? logTicks(s, n) : linTicks(s.lo, s.hi, n); };
    return s;
  }

  function linTicks(lo, hi, n) {
    var t = niceTicks(lo, hi, n);
    return t.values.map(function (v) { return { z: v, label: fmtTick(v, t.step) }; });
  }

  // logTicks returns ticks of a log scale: powers of ten, or 1, 2, 5 times
  // them, or round numbers where the range spans less than that.
  function logTicks(s, n) {
    var ulo = Math.pow(10, s.lo), uhi = Math.pow(10, s.hi);
    var k0 = Math.floor(s.lo), k1 = Math.ceil(s.hi), out = [];
    [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]].some(function (mults) {
      out = [];
      for (var k = k0; k <= k1; k++) {
        mults.forEach(function (m) {
          var u = m * Math.pow(10, k);
          if (u >= ulo * (1 - 1e-9) && u <= uhi * (1 + 1e-9)) out.push(u);
        });
      }
      return out.length >= 3;
    });
    if (out.length > n + 2) { // too many decades: every few
      var every = Math.ceil(out.length / (n + 1));
      out = out.filter(function (_, i) { return i % every === 0; });
    }
    if (out.length < 2 || s.off > 0) return spacedTicks(s, n);
    return out.map(function (u) {
      var v = u - s.off, a = Math.abs(v);
      return { z: Math.log10(u), label: a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(0).replace('e+', 'e') : fmt(v) };
    });
  }

  // spacedTicks returns round values, spaced evenly enough on the scale s,
  // whatever its transform: coarse steps first, finer ones where they fit.
  function spacedTicks(s, n) {
    var vlo = s.inv(s.lo), vhi = s.inv(s.hi), gap = (s.hi - s.lo) / (n + 1), out = [];
    [n, 2 * n, 5 * n, 10 * n, 20 * n].forEach(function (k) {
      var t = niceTicks(vlo, vhi, k);
      t.values.forEach(function (v) {
        var z = s.f(v);
        if (!isFinite(z) || z < s.lo - 1e-9 || z > s.hi + 1e-9) return;
        if (out.some(function (o) { return Math.abs(o.z - z) < gap; })) return;
        out.push({ z: z, label: fmtTick(v, t.step) });
      });
    });
    return out.sort(function (a, b) { return a.z - b.z; });
  }

  // ---- 4x4 matrices, column-major as WebGL wants them ----

  function perspective(fovy, aspect, near, far) {
    var f = 1 / Math.tan(fovy / 2), nf = 1 / (near - far);
    return [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1, 0, 0, 2 * far * near * nf, 0];
  }
  function sub(a, b) { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
  function dot(a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
  function cross(a, b) { return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]; }
  function normalize(a) {
    var l = Math.hypot(a[0], a[1], a[2]) || 1;
    return [a[0] / l, a[1] / l, a[2] / l];
  }
  function lookAt(eye, center, up) {
    var z = normalize(sub(eye, center)), x = normalize(cross(up, z)), y = cross(z, x);
    return [x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0, -dot(x, eye), -dot(y, eye), -dot(z, eye), 1];
  }
  function mul(a, b) {
    var o = new Array(16);
    for (var c = 0; c < 4; c++) {
      for (var r = 0; r < 4; r++) {
        o[c * 4 + r] = a[r] * b[c * 4] + a[4 + r] * b[c * 4 + 1] + a[8 + r] * b[c * 4 + 2] + a[12 + r] * b[c * 4 + 3];
      }
    }
    return o;
  }

  // ---- data ----

  var data = JSON.parse($('lsweep-data').textContent);
  if (data.palette && data.palette.length > 1) PALETTE = data.palette;
  initLightbox();
  var S = data.surface;
  // lossRange returns the fixed range of channel c: the loss's, when the
  // pictures fix it.
  function lossRange(c) { return c.name === 'loss' ? S.loss_range : null; }
  if (!S) {
    setStatus('ok');
    return;
  }
  var channels = S.channels.map(function (c) {
    return { name: c.name, values: Float64Array.from(c.values, function (v) { return v === null ? NaN : v; }) };
  });
  var view = $('view');
  var controls = $('controls');
  var logBox = $('log'), clipBox = $('clip'), channelBox = $('channel');
  logBox.checked = !!S.log;

  // options reads the controls.
  function options() {
    var clip = clipBox.value === '' ? NaN : Number(clipBox.value);
    return { log: logBox.checked, clip: isFinite(clip) ? clip : Infinity, channel: channels[Number(channelBox.value) || 0] };
  }

  try {
    if (view.getAttribute('data-kind') === '3d' && S.x.length >= 2 && S.y.length >= 2) {
      init3D();
    } else {
      init1D();
    }
  } catch (e) {
    fail(e && e.message || e);
  }

  // ---- 1-D chart ----

  function init1D() {
    var alongY = S.x.length === 1 && S.y.length > 1;
    var coords = alongY ? S.y : S.x;
    var axisName = alongY ? 'y' : 'x';
    // The first channel ("loss" when there is one) on the left axis, an
    // accuracy (or else the next channel) on the right.
    var second = channels.slice(1).find(function (c) { return /^acc/i.test(c.name); }) || channels[1];
    var stage = el('div', 'stage', view);
    var tip = el('div', 'tooltip', stage);
    tip.hidden = true;
    controls.hidden = false;
    var COLORS = ['#31688e', '#35b779'];
    $('reset').hidden = true;
    var drawn = 0, geom = null;

    var size = '';
    function draw() {
      var W = stage.clientWidth || 800, H = stage.clientHeight || 400;
      size = W + 'x' + H;
      hide();
      var o = options(), primary = channels[0];
      var s1 = scale(primary.values, o.log, o.clip, lossRange(primary));
      var s2 = second ? scale(second.values, false, Infinity) : null;
      var m = { l: 70, r: second ? 70 : 24, t: 40, b: 50 };
      var pw = Math.max(10, W - m.l - m.r), ph = Math.max(10, H - m.t - m.b);
      var xr = range(coords), x0 = xr[0], x1 = xr[1] > xr[0] ? xr[1] : xr[0] + 1;
      var X = function (x) { return m.l + (x - x0) / (x1 - x0) * pw; };
      var old = stage.querySelector('svg');
      if (old) stage.removeChild(old);
      var root = svg('svg', { 'class': 'chart', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'line chart of ' + primary.name }, null);
      stage.insertBefore(root, tip);
      var grid = svg('g', {}, root);
      var xt = niceTicks(x0, x1, Math.max(3, Math.round(pw / 90)));
      xt.values.forEach(function (v) {
        svg('line', { x1: X(v), x2: X(v), y1: m.t, y2: m.t + ph, stroke: '#eef0f3' }, grid);
        svg('text', { x: X(v), y: m.t + ph + 18, 'text-anchor': 'middle' }, grid).textContent = fmtTick(v, xt.step);
      });
      svg('text', { x: m.l + pw / 2, y: H - 8, 'text-anchor': 'middle', 'class': 'axis-title' }, root).textContent = axisName;
      svg('rect', { x: m.l, y: m.t, width: pw, height: ph, fill: 'none', stroke: '#cfd4db' }, root);
      geom = { X: X, m: m, pw: pw, ph: ph, series: [] };
      drawn = 0;
      [[primary, s1, 'left'], [second, s2, 'right']].forEach(function (p, k) {
        var c = p[0], s = p[1], side = p[2];
        if (!c || !s || !s.ok) return;
        var pad = (s.hi - s.lo) * 0.04, lo = s.lo - pad, hi = s.hi + pad;
        var Y = function (z) { return m.t + ph - (z - lo) / (hi - lo) * ph; };
        var ticks = s.ticks(Math.max(3, Math.round(ph / 60))).filter(function (t) { return t.z >= lo && t.z <= hi; });
        ticks.forEach(function (t) {
          if (k === 0) svg('line', { x1: m.l, x2: m.l + pw, y1: Y(t.z), y2: Y(t.z), stroke: '#eef0f3' }, grid);
          svg('text', { x: side === 'left' ? m.l - 8 : m.l + pw + 8, y: Y(t.z) + 4, 'text-anchor': side === 'left' ? 'end' : 'start', fill: COLORS[k] }, root).textContent = t.label;
        });
        var title = c.name + (s.log ? ' (log scale)' : '');
        var tx = side === 'left' ? 16 : W - 16;
        svg('text', { x: tx, y: m.t + ph / 2, 'text-anchor': 'middle', 'class': 'axis-title', fill: COLORS[k], transform: 'rotate(' + (side === 'left' ? -90 : 90) + ' ' + tx + ' ' + (m.t + ph / 2) + ')' }, root).textContent = title;
        var d = '', pen = false, pts = [];
        for (var i = 0; i < coords.length; i++) {
          var z = s.f(c.values[i]);
          if (!isFinite(z)) { pen = false; continue; }
          var px = X(coords[i]), py = Y(z);
          d += (pen ? 'L' : 'M') + px.toFixed(1) + ' ' + py.toFixed(1);
          pen = true;
          pts.push([px, py]);
          if (k === 0) drawn++;
        }
        svg('path', { d: d, fill: 'none', stroke: COLORS[k], 'stroke-width': 2, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' }, root);
        if (coords.length <= 80) {
          pts.forEach(function (q) { svg('circle', { cx: q[0], cy: q[1], r: 2.6, fill: COLORS[k] }, root); });
        }
        geom.series.push({ c: c, Y: Y, s: s, color: COLORS[k] });
      });
      // legend
      var lx = m.l + 4;
      geom.series.forEach(function (g) {
        svg('line', { x1: lx, x2: lx + 18, y1: m.t - 16, y2: m.t - 16, stroke: g.color, 'stroke-width': 2.5 }, root);
        var t = svg('text', { x: lx + 24, y: m.t - 12 }, root);
        t.textContent = g.c.name;
        lx += 40 + t.getComputedTextLength();
      });
      geom.guide = svg('line', { y1: m.t, y2: m.t + ph, stroke: '#8a93a0', 'stroke-dasharray': '3 3', visibility: 'hidden' }, root);
      return drawn;
    }

    stage.addEventListener('pointermove', function (e) {
      if (!geom) return;
      var r = stage.getBoundingClientRect(), px = e.clientX - r.left, best = -1, bd = Infinity;
      for (var i = 0; i < coords.length; i++) {
        var d = Math.abs(geom.X(coords[i]) - px);
        if (d < bd) { bd = d; best = i; }
      }
      if (best < 0 || px < geom.m.l - 10 || px > geom.m.l + geom.pw + 10) { hide(); return; }
      var gx = geom.X(coords[best]);
      geom.guide.setAttribute('x1', gx);
      geom.guide.setAttribute('x2', gx);
      geom.guide.setAttribute('visibility', 'visible');
      tip.textContent = '';
      el('b', '', tip).textContent = axisName + ' = ' + fmt(coords[best]);
      channels.forEach(function (c) {
        el('div', '', tip).textContent = c.name + ' = ' + fmt(c.values[best]);
      });
      tip.hidden = false;
      var left = gx + 12;
      if (left + tip.offsetWidth > stage.clientWidth) left = gx - 12 - tip.offsetWidth;
      tip.style.transform = 'translate(' + left + 'px,' + (geom.m.t + 8) + 'px)';
    });
    function hide() {
      tip.hidden = true;
      if (geom && geom.guide) geom.guide.setAttribute('visibility', 'hidden');
    }
    stage.addEventListener('pointerleave', hide);
    [logBox, clipBox].forEach(function (b) { b.addEventListener('input', draw); });
    new ResizeObserver(function () {
      if (stage.clientWidth + 'x' + stage.clientHeight !== size) draw();
    }).observe(stage);
    var n = draw();
    if (selftest) body.setAttribute('data-lsweep-points', String(n));
    setStatus('ok');
  }

  // ---- 3-D view ----

  function init3D() {
    var nx = S.x.length, ny = S.y.length;
    var stage = el('div', 'stage rotatable', view);
    var legend = el('div', 'legend', view);
    var canvas = el('canvas', '', stage);
    var labels = el('div', 'labels', stage);
    var marker = el('div', 'marker', stage);
    var tip = el('div', 'tooltip', stage);
    var empty = el('p', 'empty', stage);
    marker.hidden = tip.hidden = empty.hidden = true;
    stage.tabIndex = 0;
    stage.setAttribute('role', 'img');
    stage.setAttribute('aria-label', 'interactive 3-D view of the surface; drag or use the arrow keys to rotate, the wheel or + and - to zoom');

    var attrs = { antialias: true, alpha: false, depth: true, preserveDrawingBuffer: false };
    var gl = null;
    try {
      gl = canvas.getContext('webgl', attrs) || canvas.getContext('experimental-webgl', attrs);
    } catch (e) {
      gl = null;
    }
    if (!gl) {
      noWebGL(stage, legend);
      return;
    }

    if (channels.length > 1) {
      channels.forEach(function (c, i) {
        var o = el('option', '', channelBox);
        o.value = String(i);
        o.textContent = c.name;
      });
      $('channel-label').hidden = false;
    }
    controls.hidden = false;
    $('hint').hidden = false;

    // Grid points in model space: x and y in [-1, 1], heights in [-H, H].
    var H = 0.62;
    var xr = range(S.x), yr = range(S.y);
    function nrm(v, r) { return r[1] > r[0] ? -1 + 2 * (v - r[0]) / (r[1] - r[0]) : 0; }
    var PX = S.x.map(function (v) { return nrm(v, xr); });
    var PY = S.y.map(function (v) { return nrm(v, yr); });

    var mesh = compile(
      'attribute vec3 aPos; attribute vec3 aNormal; attribute vec3 aColor;' +
      'uniform mat4 uMVP; varying vec3 vNormal; varying vec3 vColor; varying vec3 vPos;' +
      'void main() { gl_Position = uMVP * vec4(aPos, 1.0); vNormal = aNormal; vColor = aColor; vPos = aPos; }',
      'precision mediump float;' +
      'uniform vec3 uLight; uniform vec3 uEye; varying vec3 vNormal; varying vec3 vColor; varying vec3 vPos;' +
      'void main() {' +
      '  vec3 n = normalize(vNormal); vec3 v = normalize(uEye - vPos);' +
      '  if (dot(n, v) < 0.0) n = -n;' +
      '  float diff = max(dot(n, uLight), 0.0);' +
      '  float spec = pow(max(dot(n, normalize(uLight + v)), 0.0), 48.0);' +
      '  gl_FragColor = vec4(vColor * (0.58 + 0.47 * diff) + vec3(0.10 * spec), 1.0);' +
      '}',
      ['aPos', 'aNormal', 'aColor'], ['uMVP', 'uLight', 'uEye']);
    var flat = compile(
      'attribute vec3 aPos; uniform mat4 uMVP; void main() { gl_Position = uMVP * vec4(aPos, 1.0); }',
      'precision mediump float; uniform vec4 uColor; void main() { gl_FragColor = uColor; }',
      ['aPos'], ['uMVP', 'uColor']);
    // Dots of a path: round point sprites with a white rim.
    var dots = compile(
      'attribute vec3 aPos; uniform mat4 uMVP; uniform float uSize;' +
      'void main() { gl_Position = uMVP * vec4(aPos, 1.0); gl_PointSize = uSize; }',
      'precision mediump float; uniform vec4 uColor;' +
      'void main() { float r = length(gl_PointCoord - vec2(0.5)); if (r > 0.5) discard;' +
      '  gl_FragColor = r > 0.40 ? vec4(1.0) : uColor; }',
      ['aPos'], ['uMVP', 'uSize', 'uColor']);
    var meshBuf = gl.createBuffer(), lineBuf = gl.createBuffer(), paneBuf = gl.createBuffer(), pathBuf = gl.createBuffer();
    var meshCount = 0;
    var cur = null; // the scale and heights of what is drawn
    var cam = { az: -58, el: 30, dist: 6 };
    var DEFAULT = { az: cam.az, el: cam.el, dist: cam.dist };
    var mvp = null, eye = null, cssW = 0, cssH = 0;

    function compile(vs, fs, attribs, uniforms) {
      function shader(type, src) {
        var s = gl.createShader(type);
        gl.shaderSource(s, src);
        gl.compileShader(s);
        if (!gl.getShaderParameter(s, gl.COMPILE_STATUS) && !gl.isContextLost()) throw new Error('WebGL shader: ' + gl.getShaderInfoLog(s));
        return s;
      }
      var p = gl.createProgram();
      gl.attachShader(p, shader(gl.VERTEX_SHADER, vs));
      gl.attachShader(p, shader(gl.FRAGMENT_SHADER, fs));
      gl.linkProgram(p);
      if (!gl.getProgramParameter(p, gl.LINK_STATUS) && !gl.isContextLost()) throw new Error('WebGL program: ' + gl.getProgramInfoLog(p));
      var out = { p: p, a: {}, u: {} };
      attribs.forEach(function (n) { out.a[n] = gl.getAttribLocation(p, n); });
      uniforms.forEach(function (n) { out.u[n] = gl.getUniformLocation(p, n); });
      return out;
    }

    // build makes the triangles of the chosen channel: two per grid cell
    // whose four corners are computed, coloured by height in the palette.
    function build() {
      var o = options(), vals = o.channel.values, s = scale(vals, o.log, o.clip, lossRange(o.channel));
      var n = nx * ny, Z = new Float32Array(n), ok = new Uint8Array(n), col = new Float32Array(3 * n), N = new Float32Array(3 * n);
      var i, j, k;
      for (k = 0; k < n; k++) {
        var z = s.ok ? s.f(vals[k]) : NaN;
        if (!isFinite(z)) continue;
        ok[k] = 1;
        var t = (z - s.lo) / (s.hi - s.lo);
        Z[k] = -H + 2 * H * t;
        var c = colour(t);
        col[3 * k] = c[0];
        col[3 * k + 1] = c[1];
        col[3 * k + 2] = c[2];
      }
      // Normals from central differences, one-sided at edges and holes.
      function slope(k, a, b, pa, pb) {
        var ka = a >= 0 && ok[a], kb = b >= 0 && ok[b];
        if (ka && kb) return (Z[b] - Z[a]) / (pb - pa);
        if (kb) return (Z[b] - Z[k]) / (pb - pa);
        if (ka) return (Z[k] - Z[a]) / (pb - pa);
        return 0;
      }
      for (j = 0; j < ny; j++) {
        for (i = 0; i < nx; i++) {
          k = j * nx + i;
          if (!ok[k]) continue;
          var ia = i > 0 ? i - 1 : i, ib = i < nx - 1 ? i + 1 : i;
          var ja = j > 0 ? j - 1 : j, jb = j < ny - 1 ? j + 1 : j;
          var dx = slope(k, i > 0 ? k - 1 : -1, i < nx - 1 ? k + 1 : -1, PX[ia], PX[ib]);
          var dy = slope(k, j > 0 ? k - nx : -1, j < ny - 1 ? k + nx : -1, PY[ja], PY[jb]);
          var nv = normalize([-dx, -dy, 1]);
          N[3 * k] = nv[0];
          N[3 * k + 1] = nv[1];
          N[3 * k + 2] = nv[2];
        }
      }
      var cells = 0;
      for (j = 0; j < ny - 1; j++) {
        for (i = 0; i < nx - 1; i++) {
          k = j * nx + i;
          if (ok[k] && ok[k + 1] && ok[k + nx] && ok[k + nx + 1]) cells++;
        }
      }
      var buf = new Float32Array(cells * 6 * 9), w = 0;
      function put(k, i, j) {
        buf[w++] = PX[i]; buf[w++] = PY[j]; buf[w++] = Z[k];
        buf[w++] = N[3 * k]; buf[w++] = N[3 * k + 1]; buf[w++] = N[3 * k + 2];
        buf[w++] = col[3 * k]; buf[w++] = col[3 * k + 1]; buf[w++] = col[3 * k + 2];
      }
      for (j = 0; j < ny - 1; j++) {
        for (i = 0; i < nx - 1; i++) {
          k = j * nx + i;
          if (!(ok[k] && ok[k + 1] && ok[k + nx] && ok[k + nx + 1])) continue;
          put(k, i, j); put(k + 1, i + 1, j); put(k + nx + 1, i + 1, j + 1);
          put(k, i, j); put(k + nx + 1, i + 1, j + 1); put(k + nx, i, j + 1);
        }
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, meshBuf);
      gl.bufferData(gl.ARRAY_BUFFER, buf, gl.STATIC_DRAW);
      meshCount = cells * 6;
      cur = { s: s, Z: Z, ok: ok, channel: o.channel, ticks: s.ok ? s.ticks(5) : [] };
      cur.path = pathOn(Z, ok);
      cur.estimated = estimatedOn(Z, ok);
      empty.hidden = cells > 0;
      empty.textContent = !s.ok ? 'No point of ' + o.channel.name + ' is computed yet.' :
        'No grid cell has all four corners of ' + o.channel.name + ' computed yet, so there is no surface to draw.';
      drawLegend();
    }

    function height(z) { return -H + 2 * H * (z - cur.s.lo) / (cur.s.hi - cur.s.lo); }

    // pathOn lays the path (data.path) on the surface of heights Z: its
    // steps cut into short pieces that follow the surface (GL line pairs),
    // and its points; a piece off the grid or over a hole is left out.
    function pathOn(Z, ok) {
      var P = data.path, out = { lines: [], dots: [], labels: [] };
      if (!P || nx < 2 || ny < 2) return out;
      var lift = 0.012 * H;
      function at(x, y) {
        var fx = (x - S.x[0]) / (S.x[nx - 1] - S.x[0]) * (nx - 1);
        var fy = (y - S.y[0]) / (S.y[ny - 1] - S.y[0]) * (ny - 1);
        if (!(fx >= -1e-9 && fx <= nx - 1 + 1e-9 && fy >= -1e-9 && fy <= ny - 1 + 1e-9)) return null;
        var i = Math.min(nx - 2, Math.max(0, Math.floor(fx))), j = Math.min(ny - 2, Math.max(0, Math.floor(fy)));
        var u = fx - i, v = fy - j, k = j * nx + i;
        if (!(ok[k] && ok[k + 1] && ok[k + nx] && ok[k + nx + 1])) return null;
        var z = (1 - u) * (1 - v) * Z[k] + u * (1 - v) * Z[k + 1] + (1 - u) * v * Z[k + nx] + u * v * Z[k + nx + 1];
        return [nrm(x, xr), nrm(y, yr), z + lift];
      }
      var n = Math.min(P.x.length, P.y.length), steps = 24;
      for (var q = 0; q < n; q++) {
        var p = at(P.x[q], P.y[q]);
        if (p) {
          out.dots.push(p);
          if (P.labels && P.labels[q]) out.labels.push({ text: P.labels[q], p: p });
        }
        if (q + 1 === n) break;
        var prev = p;
        for (var t = 1; t <= steps; t++) {
          var f = t / steps, next = at(P.x[q] + f * (P.x[q + 1] - P.x[q]), P.y[q] + f * (P.y[q + 1] - P.y[q]));
          if (prev && next) out.lines.push(prev, next);
          prev = next;
        }
      }
      return out;
    }

    // estimatedOn returns the points of the surface of heights Z that an
    // adaptive run interpolated rather than computed (its channel
    // "estimated" is 1 there), lifted a little so that they show.
    var estimatedChannel = S.channels.filter(function (c) { return c.name === 'estimated'; })[0];
    function estimatedOn(Z, ok) {
      var out = [];
      if (!estimatedChannel) return out;
      var E = estimatedChannel.values, lift = 0.006 * H;
      for (var j = 0; j < ny; j++) {
        for (var i = 0; i < nx; i++) {
          var k = j * nx + i;
          if (ok[k] && E[k] === 1) out.push([PX[i], PY[j], Z[k] + lift]);
        }
      }
      return out;
    }

    // drawEstimated dots the interpolated points grey, as the pictures do.
    function drawEstimated() {
      var E = cur.estimated;
      if (!E || E.length === 0) return;
      var dpr = canvas.width / Math.max(1, cssW);
      gl.useProgram(dots.p);
      gl.uniformMatrix4fv(dots.u.uMVP, false, new Float32Array(mvp));
      gl.uniform4f(dots.u.uColor, 0.5, 0.5, 0.5, 0.85);
      gl.bindBuffer(gl.ARRAY_BUFFER, pathBuf);
      gl.bufferData(gl.ARRAY_BUFFER, flatten(E), gl.DYNAMIC_DRAW);
      gl.enableVertexAttribArray(dots.a.aPos);
      gl.vertexAttribPointer(dots.a.aPos, 3, gl.FLOAT, false, 12, 0);
      gl.uniform1f(dots.u.uSize, 3 * dpr);
      gl.drawArrays(gl.POINTS, 0, E.length);
      gl.disableVertexAttribArray(dots.a.aPos);
    }

    function drawPath() {
      var P = cur.path;
      if (!P || P.dots.length === 0) return;
      var dpr = canvas.width / Math.max(1, cssW);
      gl.useProgram(flat.p);
      gl.uniformMatrix4fv(flat.u.uMVP, false, new Float32Array(mvp));
      gl.bindBuffer(gl.ARRAY_BUFFER, pathBuf);
      gl.enableVertexAttribArray(flat.a.aPos);
      if (P.lines.length > 0) {
        gl.bufferData(gl.ARRAY_BUFFER, flatten(P.lines), gl.DYNAMIC_DRAW);
        gl.vertexAttribPointer(flat.a.aPos, 3, gl.FLOAT, false, 12, 0);
        gl.uniform4f(flat.u.uColor, 0.84, 0.15, 0.16, 1);
        gl.drawArrays(gl.LINES, 0, P.lines.length);
      }
      gl.disableVertexAttribArray(flat.a.aPos);
      gl.useProgram(dots.p);
      gl.uniformMatrix4fv(dots.u.uMVP, false, new Float32Array(mvp));
      gl.uniform4f(dots.u.uColor, 0.84, 0.15, 0.16, 1);
      gl.bindBuffer(gl.ARRAY_BUFFER, pathBuf);
      gl.bufferData(gl.ARRAY_BUFFER, flatten(P.dots), gl.DYNAMIC_DRAW);
      gl.enableVertexAttribArray(dots.a.aPos);
      gl.vertexAttribPointer(dots.a.aPos, 3, gl.FLOAT, false, 12, 0);
      gl.uniform1f(dots.u.uSize, 9 * dpr);
      gl.drawArrays(gl.POINTS, 0, P.dots.length);
      gl.disableVertexAttribArray(dots.a.aPos);
    }

    function drawLegend() {
      legend.textContent = '';
      var title = el('span', 'title', legend);
      title.textContent = cur.channel.name + (cur.s.log ? ' (log)' : '');
      title.title = title.textContent;
      if (!cur.s.ok) return;
      var h = Math.max(60, legend.clientHeight - 60), top = 34;
      var c = el('canvas', '', legend);
      c.width = 1;
      c.height = 256;
      c.style.top = top + 'px';
      c.style.height = h + 'px';
      var ctx = c.getContext('2d'), img = ctx.createImageData(1, 256);
      for (var y = 0; y < 256; y++) {
        var rgb = colour(1 - y / 255);
        img.data[4 * y] = Math.round(rgb[0] * 255);
        img.data[4 * y + 1] = Math.round(rgb[1] * 255);
        img.data[4 * y + 2] = Math.round(rgb[2] * 255);
        img.data[4 * y + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      cur.ticks.forEach(function (t) {
        var f = (t.z - cur.s.lo) / (cur.s.hi - cur.s.lo);
        if (f < -1e-6 || f > 1 + 1e-6) return;
        var sp = el('span', '', legend);
        sp.textContent = t.label;
        sp.style.top = (top + (1 - f) * h) + 'px';
      });
    }

    // box returns the panes and grid lines of the three back faces of the
    // box, which depend on where the camera is.
    function box() {
      var xb = eye[0] >= 0 ? -1 : 1, yb = eye[1] >= 0 ? -1 : 1, zb = eye[2] >= 0 ? -H : H;
      var panes = [
        [xb, -1, -H], [xb, 1, -H], [xb, 1, H], [xb, -1, -H], [xb, 1, H], [xb, -1, H],
        [-1, yb, -H], [1, yb, -H], [1, yb, H], [-1, yb, -H], [1, yb, H], [-1, yb, H],
        [-1, -1, zb], [1, -1, zb], [1, 1, zb], [-1, -1, zb], [1, 1, zb], [-1, 1, zb]
      ];
      var lines = [];
      function seg(a, b) { lines.push(a, b); }
      xTicks.values.forEach(function (v) {
        var p = nrm(v, xr);
        seg([p, -1, zb], [p, 1, zb]);
        seg([p, yb, -H], [p, yb, H]);
      });
      yTicks.values.forEach(function (v) {
        var p = nrm(v, yr);
        seg([-1, p, zb], [1, p, zb]);
        seg([xb, p, -H], [xb, p, H]);
      });
      cur.ticks.forEach(function (t) {
        var z = height(t.z);
        if (z < -H - 1e-6 || z > H + 1e-6) return;
        seg([xb, -1, z], [xb, 1, z]);
        seg([-1, yb, z], [1, yb, z]);
      });
      var edges = [];
      function edge(a, b) { edges.push(a, b); }
      [-1, 1].forEach(function (u) {
        edge([u, -1, zb], [u, 1, zb]);
        edge([-1, u, zb], [1, u, zb]);
      });
      edge([xb, yb, -H], [xb, yb, H]);
      edge([-xb, yb, -H], [-xb, yb, H]);
      edge([xb, -yb, -H], [xb, -yb, H]);
      edge([xb, -1, -zb], [xb, 1, -zb]);
      edge([-1, yb, -zb], [1, yb, -zb]);
      return { panes: panes, lines: lines, edges: edges, xb: xb, yb: yb, zb: zb };
    }
    var xTicks = niceTicks(xr[0], xr[1], 5), yTicks = niceTicks(yr[0], yr[1], 5);
    xTicks.values = xTicks.values.filter(function (v) { return v >= xr[0] - 1e-9 && v <= xr[1] + 1e-9; });
    yTicks.values = yTicks.values.filter(function (v) { return v >= yr[0] - 1e-9 && v <= yr[1] + 1e-9; });

    function flatten(points) {
      var a = new Float32Array(points.length * 3);
      points.forEach(function (p, i) { a[3 * i] = p[0]; a[3 * i + 1] = p[1]; a[3 * i + 2] = p[2]; });
      return a;
    }

    function resize() {
      var dpr = Math.min(window.devicePixelRatio || 1, 2);
      cssW = stage.clientWidth;
      cssH = stage.clientHeight;
      var w = Math.max(1, Math.round(cssW * dpr)), h = Math.max(1, Math.round(cssH * dpr));
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
    }

    function project(p) {
      var m = mvp, x = p[0], y = p[1], z = p[2];
      var cw = m[3] * x + m[7] * y + m[11] * z + m[15];
      return [
        (1 + (m[0] * x + m[4] * y + m[8] * z + m[12]) / cw) / 2 * cssW,
        (1 - (m[1] * x + m[5] * y + m[9] * z + m[13]) / cw) / 2 * cssH,
        (m[2] * x + m[6] * y + m[10] * z + m[14]) / cw
      ];
    }

    // Labels are spans over the canvas, reused from frame to frame. One
    // that would overlap a label placed before it is hidden.
    var pool = [], used = 0, boxes = [];
    function label(text, p, cls, ax, ay) {
      var s = pool[used];
      if (!s) {
        s = pool[used] = el('span', '', labels);
      }
      used++;
      s.className = cls || '';
      s.textContent = text;
      s.hidden = false;
      var w = s.offsetWidth, h = s.offsetHeight;
      var x = p[0] + ax / 100 * w, y = p[1] + ay / 100 * h;
      var r = [x - 2, y - 1, x + w + 2, y + h + 1];
      s.hidden = boxes.some(function (b) { return r[0] < b[2] && b[0] < r[2] && r[1] < b[3] && b[1] < r[3]; });
      if (s.hidden) return;
      boxes.push(r);
      s.style.transform = 'translate(' + x.toFixed(1) + 'px,' + y.toFixed(1) + 'px)';
    }

    function drawLabels(b) {
      used = 0;
      boxes = [];
      var xf = -b.xb, yf = -b.yb, zb = b.zb, out = 0.14;
      // Heights on the vertical edge that appears leftmost, outside it.
      var cands = [[xf, b.yb], [b.xb, yf], [xf, yf]];
      var best = cands[0], bx = Infinity;
      cands.forEach(function (c) {
        var sx = project([c[0], c[1], 0])[0];
        if (sx < bx) { bx = sx; best = c; }
      });
      cur.ticks.forEach(function (t) {
        var z = height(t.z);
        if (z < -H - 1e-6 || z > H + 1e-6) return;
        var p = project([best[0], best[1], z]);
        label(t.label, [p[0] - 8, p[1]], '', -100, -50);
      });
      var top = project([best[0], best[1], H]);
      label(cur.channel.name + (cur.s.log ? ' (log scale)' : ''), [top[0], top[1] - 12], 'title', -50, -100);
      // x ticks along the front edge y = yf, y ticks along x = xf.
      xTicks.values.forEach(function (v) { label(fmtTick(v, xTicks.step), project([nrm(v, xr), yf * (1 + out), zb]), '', -50, -50); });
      yTicks.values.forEach(function (v) { label(fmtTick(v, yTicks.step), project([xf * (1 + out), nrm(v, yr), zb]), '', -50, -50); });
      if (cur.path) cur.path.labels.forEach(function (l) { label(l.text, project(l.p), 'path', 10, -120); });
      label('x', project([0, yf * (1 + 2.7 * out), zb]), 'title', -50, -50);
      label('y', project([xf * (1 + 2.7 * out), 0, zb]), 'title', -50, -50);
      for (var i = used; i < pool.length; i++) pool[i].hidden = true;
    }

    var light = normalize([0.35, -0.45, 0.85]);

    // fitting returns the scaling and shift, applied after the projection
    // proj, that fit the box and its labels seen from the default view in
    // the canvas, leaving room for the labels. It changes with the canvas's
    // size only, so that the view does not breathe while it rotates.
    var fit = null;
    function fitting(proj) {
      var ar = Math.PI / 180, d = DEFAULT;
      var e = [d.dist * Math.cos(d.el * ar) * Math.cos(d.az * ar), d.dist * Math.cos(d.el * ar) * Math.sin(d.az * ar), d.dist * Math.sin(d.el * ar)];
      var m = mul(proj, lookAt(e, [0, 0, 0], [0, 0, 1]));
      var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      [-1, 1].forEach(function (x) {
        [-1, 1].forEach(function (y) {
          [[x, y, -H], [x, y, H], [x * 1.3, y * 1.3, -H]].forEach(function (p) {
            var w = m[3] * p[0] + m[7] * p[1] + m[11] * p[2] + m[15];
            var nx = (m[0] * p[0] + m[4] * p[1] + m[8] * p[2] + m[12]) / w;
            var ny = (m[1] * p[0] + m[5] * p[1] + m[9] * p[2] + m[13]) / w;
            x0 = Math.min(x0, nx); x1 = Math.max(x1, nx);
            y0 = Math.min(y0, ny); y1 = Math.max(y1, ny);
          });
        });
      });
      // Room in pixels for the labels: heights on the left, the title on top.
      var left = 56, right = 20, top = 34, bottom = 14;
      var aw = Math.max(40, cssW - left - right), ah = Math.max(40, cssH - top - bottom);
      var sc = Math.min(aw / ((x1 - x0) / 2 * cssW), ah / ((y1 - y0) / 2 * cssH));
      var cx = (left + aw / 2) / cssW * 2 - 1, cy = 1 - (top + ah / 2) / cssH * 2;
      var tx = cx - sc * (x0 + x1) / 2, ty = cy - sc * (y0 + y1) / 2;
      return { w: cssW, h: cssH, m: [sc, 0, 0, 0, 0, sc, 0, 0, 0, 0, 1, 0, tx, ty, 0, 1] };
    }

    function draw() {
      resize();
      var ar = Math.PI / 180;
      eye = [
        cam.dist * Math.cos(cam.el * ar) * Math.cos(cam.az * ar),
        cam.dist * Math.cos(cam.el * ar) * Math.sin(cam.az * ar),
        cam.dist * Math.sin(cam.el * ar)
      ];
      var proj = perspective(30 * ar, cssW / Math.max(1, cssH), 0.1, 50);
      if (!fit || fit.w !== cssW || fit.h !== cssH) fit = fitting(proj);
      mvp = mul(fit.m, mul(proj, lookAt(eye, [0, 0, 0], [0, 0, 1])));

      gl.viewport(0, 0, canvas.width, canvas.height);
      gl.clearColor(1, 1, 1, 1);
      gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
      gl.enable(gl.DEPTH_TEST);
      gl.depthFunc(gl.LEQUAL);

      var b = box();
      gl.useProgram(flat.p);
      gl.uniformMatrix4fv(flat.u.uMVP, false, new Float32Array(mvp));
      gl.bindBuffer(gl.ARRAY_BUFFER, paneBuf);
      gl.enableVertexAttribArray(flat.a.aPos);
      gl.depthMask(false);
      gl.bufferData(gl.ARRAY_BUFFER, flatten(b.panes), gl.DYNAMIC_DRAW);
      gl.vertexAttribPointer(flat.a.aPos, 3, gl.FLOAT, false, 12, 0);
      gl.uniform4f(flat.u.uColor, 0.965, 0.969, 0.976, 1);
      gl.drawArrays(gl.TRIANGLES, 0, b.panes.length);
      gl.bindBuffer(gl.ARRAY_BUFFER, lineBuf);
      gl.bufferData(gl.ARRAY_BUFFER, flatten(b.lines.concat(b.edges)), gl.DYNAMIC_DRAW);
      gl.vertexAttribPointer(flat.a.aPos, 3, gl.FLOAT, false, 12, 0);
      gl.uniform4f(flat.u.uColor, 0.87, 0.885, 0.905, 1);
      gl.drawArrays(gl.LINES, 0, b.lines.length);
      gl.uniform4f(flat.u.uColor, 0.62, 0.65, 0.69, 1);
      gl.drawArrays(gl.LINES, b.lines.length, b.edges.length);
      gl.depthMask(true);
      gl.disableVertexAttribArray(flat.a.aPos);

      if (meshCount > 0) {
        gl.useProgram(mesh.p);
        gl.uniformMatrix4fv(mesh.u.uMVP, false, new Float32Array(mvp));
        gl.uniform3fv(mesh.u.uLight, light);
        gl.uniform3fv(mesh.u.uEye, eye);
        gl.bindBuffer(gl.ARRAY_BUFFER, meshBuf);
        gl.enableVertexAttribArray(mesh.a.aPos);
        gl.enableVertexAttribArray(mesh.a.aNormal);
        gl.enableVertexAttribArray(mesh.a.aColor);
        gl.vertexAttribPointer(mesh.a.aPos, 3, gl.FLOAT, false, 36, 0);
        gl.vertexAttribPointer(mesh.a.aNormal, 3, gl.FLOAT, false, 36, 12);
        gl.vertexAttribPointer(mesh.a.aColor, 3, gl.FLOAT, false, 36, 24);
        gl.enable(gl.POLYGON_OFFSET_FILL);
        gl.polygonOffset(1, 1);
        gl.drawArrays(gl.TRIANGLES, 0, meshCount);
        gl.disable(gl.POLYGON_OFFSET_FILL);
        gl.disableVertexAttribArray(mesh.a.aPos);
        gl.disableVertexAttribArray(mesh.a.aNormal);
        gl.disableVertexAttribArray(mesh.a.aColor);
      }
      drawEstimated();
      drawPath();
      drawLabels(b);
      if (hover) showHover(hover);
    }

    var pending = false;
    function render() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        if (!gl.isContextLost()) draw();
      });
    }

    // ---- hover: the computed grid point nearest the pointer, in front ----
    var hover = null;
    function pick(px, py) {
      var best = -1, bz = Infinity, r2 = 14 * 14;
      for (var j = 0; j < ny; j++) {
        for (var i = 0; i < nx; i++) {
          var k = j * nx + i;
          if (!cur.ok[k]) continue;
          var p = project([PX[i], PY[j], cur.Z[k]]);
          var dx = p[0] - px, dy = p[1] - py;
          if (dx * dx + dy * dy <= r2 && p[2] < bz) { bz = p[2]; best = k; }
        }
      }
      return best;
    }
    function showHover(h) {
      var k = pick(h.x, h.y);
      if (k < 0) { marker.hidden = tip.hidden = true; return; }
      var i = k % nx, j = (k - i) / nx;
      var p = project([PX[i], PY[j], cur.Z[k]]);
      marker.hidden = false;
      marker.style.transform = 'translate(' + p[0].toFixed(1) + 'px,' + p[1].toFixed(1) + 'px)';
      tip.textContent = '';
      el('b', '', tip).textContent = 'x = ' + fmt(S.x[i]) + ', y = ' + fmt(S.y[j]);
      channels.forEach(function (c) { el('div', '', tip).textContent = c.name + ' = ' + fmt(c.values[k]); });
      tip.hidden = false;
      var left = p[0] + 14, topp = p[1] + 14;
      if (left + tip.offsetWidth > cssW - 4) left = p[0] - 14 - tip.offsetWidth;
      if (topp + tip.offsetHeight > cssH - 4) topp = p[1] - 14 - tip.offsetHeight;
      tip.style.transform = 'translate(' + left + 'px,' + topp + 'px)';
    }
    function clearHover() {
      hover = null;
      marker.hidden = tip.hidden = true;
    }

    // ---- interaction ----
    var pointers = new Map(), pinch = 0;
    function clampCam() {
      cam.el = Math.max(-89, Math.min(89, cam.el));
      cam.dist = Math.max(2.4, Math.min(16, cam.dist));
      cam.az = ((cam.az + 180) % 360 + 360) % 360 - 180;
    }
    function pinchDist() {
      var p = Array.from(pointers.values());
      return Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
    }
    stage.addEventListener('pointerdown', function (e) {
      if (e.button !== 0 && e.pointerType === 'mouse') return;
      try {
        stage.setPointerCapture(e.pointerId);
      } catch (err) {
        // a pointer the browser no longer tracks: drag without capture
      }
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pointers.size === 2) pinch = pinchDist();
      stage.classList.add('dragging');
      clearHover();
    });
    stage.addEventListener('pointermove', function (e) {
      var p = pointers.get(e.pointerId);
      if (!p) {
        var r = stage.getBoundingClientRect();
        hover = { x: e.clientX - r.left, y: e.clientY - r.top };
        render();
        return;
      }
      var dx = e.clientX - p.x, dy = e.clientY - p.y;
      p.x = e.clientX;
      p.y = e.clientY;
      if (pointers.size === 1) {
        cam.az -= dx * 0.45;
        cam.el += dy * 0.35;
      } else if (pointers.size === 2) {
        var d = pinchDist();
        if (pinch > 0 && d > 0) cam.dist *= pinch / d;
        pinch = d;
      }
      clampCam();
      render();
    });
    function release(e) {
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = 0;
      if (pointers.size === 0) stage.classList.remove('dragging');
    }
    stage.addEventListener('pointerup', release);
    stage.addEventListener('pointercancel', release);
    stage.addEventListener('pointerleave', function () {
      if (pointers.size === 0 && hover) { clearHover(); }
    });
    stage.addEventListener('wheel', function (e) {
      e.preventDefault();
      var d = e.deltaY * (e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? 400 : 1);
      cam.dist *= Math.exp(Math.max(-100, Math.min(100, d)) * 0.0016);
      clampCam();
      render();
    }, { passive: false });
    function reset() {
      cam.az = DEFAULT.az;
      cam.el = DEFAULT.el;
      cam.dist = DEFAULT.dist;
      render();
    }
    stage.addEventListener('dblclick', reset);
    $('reset').addEventListener('click', reset);
    stage.addEventListener('keydown', function (e) {
      var k = e.key;
      if (k === 'ArrowLeft') cam.az += 5;
      else if (k === 'ArrowRight') cam.az -= 5;
      else if (k === 'ArrowUp') cam.el -= 5;
      else if (k === 'ArrowDown') cam.el += 5;
      else if (k === '+' || k === '=') cam.dist /= 1.1;
      else if (k === '-' || k === '_') cam.dist *= 1.1;
      else if (k === '0') { reset(); return; }
      else return;
      e.preventDefault();
      clampCam();
      render();
    });
    function rebuild() {
      build();
      clearHover();
      render();
    }
    [logBox, clipBox, channelBox].forEach(function (b) {
      b.addEventListener('input', rebuild);
      b.addEventListener('change', rebuild);
    });
    canvas.addEventListener('webglcontextlost', function (e) {
      e.preventDefault();
      stage.insertBefore(notice('The 3-D view was lost: the browser took back its WebGL context. Reload the page to see it again.'), stage.firstChild);
    });
    new ResizeObserver(function () {
      if (stage.clientWidth === cssW && stage.clientHeight === cssH) return;
      drawLegend();
      render();
    }).observe(stage);

    build();
    draw();
    var glErr = gl.getError();
    if (glErr !== gl.NO_ERROR && !gl.isContextLost()) fail('WebGL error 0x' + glErr.toString(16));
    if (selftest) readBack();
    setStatus('ok');

    // readBack counts the distinct colours of what was drawn, for tests.
    function readBack() {
      var w = canvas.width, h = canvas.height, px = new Uint8Array(w * h * 4);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
      var seen = new Set();
      for (var i = 0; i < px.length; i += 4) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      var r = canvas.getBoundingClientRect();
      body.setAttribute('data-lsweep-colors', String(seen.size));
      body.setAttribute('data-lsweep-triangles', String(meshCount / 3));
      body.setAttribute('data-lsweep-path', String(cur.path ? cur.path.dots.length : 0));
      body.setAttribute('data-lsweep-estimated', String(cur.estimated ? cur.estimated.length : 0));
      body.setAttribute('data-lsweep-canvas', [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height].map(Math.round).join(','));
      body.setAttribute('data-lsweep-scale', cur.s.ok ? cur.s.lo + ',' + cur.s.hi : '');
    }
  }

  function notice(text) {
    var p = el('p', 'notice');
    p.setAttribute('role', 'status');
    p.textContent = text;
    return p;
  }

  // noWebGL says why there is no 3-D view and draws the surface as a flat
  // map of its first channel instead.
  function noWebGL(stage, legend) {
    view.removeChild(legend);
    stage.className = 'stage fallback';
    stage.textContent = '';
    stage.appendChild(notice('This browser cannot show the interactive 3-D view: WebGL is unavailable or turned off. ' +
      'Below is a flat map of ' + channels[0].name + ' (rows are y, columns are x; grey: not computed). The pictures and the manifest are not affected.'));
    var nx = S.x.length, ny = S.y.length, vals = channels[0].values, s = scale(vals, false, Infinity);
    var wrap = el('div', 'heat', stage), c = el('canvas', '', wrap);
    c.width = nx;
    c.height = ny;
    c.setAttribute('role', 'img');
    c.setAttribute('aria-label', 'flat map of ' + channels[0].name);
    var ctx = c.getContext('2d');
    if (ctx) {
      var img = ctx.createImageData(nx, ny);
      for (var j = 0; j < ny; j++) {
        for (var i = 0; i < nx; i++) {
          var v = vals[j * nx + i], o = 4 * ((ny - 1 - j) * nx + i); // y grows upwards
          var rgb = s.ok && isFinite(v) ? colour((s.f(v) - s.lo) / (s.hi - s.lo)) : [0.8, 0.8, 0.8];
          img.data[o] = Math.round(rgb[0] * 255);
          img.data[o + 1] = Math.round(rgb[1] * 255);
          img.data[o + 2] = Math.round(rgb[2] * 255);
          img.data[o + 3] = 255;
        }
      }
      ctx.putImageData(img, 0, 0);
    }
    setStatus('no-webgl');
  }

  // ---- pictures ----

  function initLightbox() {
    var box = $('lightbox');
    if (!box) return;
    var img = box.querySelector('img'), cap = box.querySelector('figcaption');
    function close() { box.hidden = true; img.removeAttribute('src'); }
    Array.prototype.forEach.call(document.querySelectorAll('.thumb'), function (b) {
      b.addEventListener('click', function () {
        var src = b.querySelector('img');
        img.src = src.src;
        img.alt = src.alt;
        cap.textContent = b.parentNode.querySelector('figcaption').textContent;
        box.hidden = false;
      });
    });
    box.addEventListener('click', close);
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && !box.hidden) close();
    });
  }
})();
