// The report's only script (allowed by its CSP hash). It fills the result tables from the
// embedded JSON, building rows only for what the filters show; every inventory string is
// put into the page with textContent, never parsed as markup.
(function () {
  "use strict";
  var FIRST_PAGE = 200;
  var NEXT_PAGE = 1000;
  var RANK = { crashed: 0, fail: 1, unknown: 2, waived: 3, pass: 4 };
  // A row: rule, status, severity, kind, name, id, message, vcenter, waiver (-1: none),
  // and when the run was compared with a baseline, its mark (new, persisting, resolved).
  var RULE = 0, STATUS = 1, SEVERITY = 2, KIND = 3, NAME = 4, ID = 5, MESSAGE = 6,
    VCENTER = 7, WAIVER = 8, BASELINE = 9;

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var S = data.strings;
  var waivers = data.waivers;
  var multi = document.body.dataset.multi === "1";
  var compared = document.body.dataset.compared === "1";
  var lowered = null;
  var rows = data.results
    .map(function (row, i) { return [RANK[S[row[STATUS]]], i, row]; })
    .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
    .map(function (x) { return x[2]; });

  var form = document.getElementById("filters");
  var search = document.getElementById("search");
  var ruleFilter = document.getElementById("rule-filter");
  var baselineFilter = document.getElementById("baseline-filter");
  var matchCount = document.getElementById("match-count");

  function group(root, withWaiver) {
    return {
      root: root,
      withWaiver: withWaiver,
      table: root.querySelector("table.results"),
      tbody: root.querySelector("table.results tbody"),
      count: root.querySelector(".group-count"),
      more: root.querySelector("button.more"),
      limit: FIRST_PAGE,
      rows: [],
      total: 0,
    };
  }

  var groups = {};
  var groupList = [];
  document.querySelectorAll("article.rule").forEach(function (el) {
    var g = group(el, false);
    groups[el.dataset.rule] = g;
    groupList.push(g);
  });
  var waived = group(document.getElementById("waived"), true);
  groupList.push(waived);
  rows.forEach(function (row) {
    var g = S[row[STATUS]] === "waived" ? waived : groups[S[row[RULE]]];
    if (g) g.total += 1;
  });

  function checked(name) {
    var values = {};
    form.querySelectorAll("input[name=" + name + "]").forEach(function (box) {
      if (box.checked) values[box.value] = true;
    });
    return values;
  }

  // For a query, which strings of the table contain it: one pass over distinct strings.
  function stringHits(query) {
    if (!query) return null;
    if (lowered === null) lowered = S.map(function (s) { return s.toLowerCase(); });
    var hits = new Uint8Array(S.length);
    for (var i = 0; i < lowered.length; i++) {
      if (lowered[i].indexOf(query) !== -1) hits[i] = 1;
    }
    return hits;
  }

  function rowHit(row, hits) {
    if (hits[row[NAME]] || hits[row[ID]] || hits[row[MESSAGE]] || hits[row[RULE]] ||
        hits[row[KIND]] || hits[row[VCENTER]]) return true;
    if (row[WAIVER] < 0) return false;
    var w = waivers[row[WAIVER]];
    return Boolean(hits[w[0]] || hits[w[1]] || hits[w[2]] || hits[w[3]]);
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    if (className) {
      var span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      td.appendChild(span);
    } else {
      td.textContent = text;
    }
    tr.appendChild(td);
  }

  function rowElement(row, withWaiver) {
    var tr = document.createElement("tr");
    var status = S[row[STATUS]];
    if (withWaiver) {
      cell(tr, S[row[RULE]]);
    } else {
      cell(tr, status, "chip st-" + (status in RANK ? status : "unknown"));
    }
    if (compared) {
      var mark = row[BASELINE] >= 0 ? S[row[BASELINE]] : "";
      cell(tr, mark, mark ? "badge bl-" + mark : "");
    }
    cell(tr, S[row[SEVERITY]]);
    if (multi) cell(tr, S[row[VCENTER]]);
    cell(tr, S[row[KIND]] + " " + S[row[NAME]]);
    cell(tr, S[row[ID]]);
    cell(tr, S[row[MESSAGE]]);
    if (withWaiver) {
      var w = row[WAIVER] >= 0 ? waivers[row[WAIVER]] : null;
      for (var i = 0; i < 4; i++) cell(tr, w ? S[w[i]] : "");
    }
    return tr;
  }

  function draw(g) {
    var shown = Math.min(g.limit, g.rows.length);
    var fragment = document.createDocumentFragment();
    for (var i = 0; i < shown; i++) fragment.appendChild(rowElement(g.rows[i], g.withWaiver));
    g.tbody.replaceChildren(fragment);
    g.table.hidden = shown === 0;
    g.more.hidden = shown >= g.rows.length;
    g.more.textContent = "show " + Math.min(NEXT_PAGE, g.rows.length - shown) + " more";
    var text = g.rows.length + " of " + g.total + " match the filters";
    if (shown < g.rows.length) text += "; the first " + shown + " are shown";
    g.count.textContent = text;
  }

  function apply() {
    var statuses = checked("status");
    var severities = checked("severity");
    var rule = ruleFilter.value;
    var mark = baselineFilter ? baselineFilter.value : "";
    var query = search.value.trim().toLowerCase();
    var hits = stringHits(query);
    groupList.forEach(function (g) { g.rows = []; g.limit = FIRST_PAGE; });
    var matched = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var status = S[row[STATUS]];
      if (!statuses[status] || !severities[S[row[SEVERITY]]]) continue;
      if (rule && S[row[RULE]] !== rule) continue;
      if (mark && (row[BASELINE] < 0 || S[row[BASELINE]] !== mark)) continue;
      if (hits && !rowHit(row, hits)) continue;
      var g = status === "waived" ? waived : groups[S[row[RULE]]];
      if (!g) continue;
      g.rows.push(row);
      matched += 1;
    }
    groupList.forEach(function (g) {
      var ruleOut = g !== waived && rule && g.root.dataset.rule !== rule;
      g.root.hidden = Boolean(ruleOut || (g.rows.length === 0 && (query || g === waived)));
      draw(g);
    });
    matchCount.textContent = matched + " of " + rows.length + " results match";
    document.body.dataset.applied = String(Number(document.body.dataset.applied || 0) + 1);
  }

  var pending = 0;
  function applySoon() {
    clearTimeout(pending);
    pending = setTimeout(apply, 120);
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  form.addEventListener("change", function (event) {
    // Resolved findings pass now: asking for them shows passing results too.
    if (event.target === baselineFilter && baselineFilter.value === "resolved") {
      form.querySelector("input[name=status][value=pass]").checked = true;
    }
    apply();
  });
  search.addEventListener("input", applySoon);
  groupList.forEach(function (g) {
    g.more.addEventListener("click", function () { g.limit += NEXT_PAGE; draw(g); });
  });
  // One listener for every appliance card (there may be tens of thousands).
  function searchFor(card) {
    search.value = card.dataset.q;
    form.querySelectorAll("input[name=status]").forEach(function (box) { box.checked = true; });
    apply();
    document.getElementById("results").scrollIntoView();
  }
  var placement = document.getElementById("placement");
  placement.addEventListener("click", function (event) {
    var card = event.target.closest(".card");
    if (card) searchFor(card);
  });
  placement.addEventListener("keydown", function (event) {
    var card = event.target.closest(".card");
    if (card && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      searchFor(card);
    }
  });
  apply();
  document.body.dataset.ready = "1";
})();
