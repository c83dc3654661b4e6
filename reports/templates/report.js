// The report's only script (allowed by its CSP hash). It fills the result tables, the
// appliance list and each appliance's view from the embedded JSON, building rows only for
// what is shown; every inventory string is put into the page with textContent, never
// parsed as markup.
(function () {
  "use strict";
  var FIRST_PAGE = 200;
  var NEXT_PAGE = 1000;
  var RANK = { crashed: 0, fail: 1, unknown: 2, waived: 3, pass: 4 };
  var SEVERITY_RANK = { error: 0, warning: 1, info: 2 };
  // A result row: rule, status, severity, object, message, next step (-1: none), waiver
  // (-1: none), fix steps (-1: none), and when the run was compared with a baseline, its
  // mark.
  var RULE = 0, STATUS = 1, SEVERITY = 2, OBJECT = 3, MESSAGE = 4, STEP = 5, WAIVER = 6,
    FIX = 7, BASELINE = 8;
  // An object row: kind, id, name, vcenter, place in "Act now" (0: none), role, host,
  // cluster, pool, pair (-1: none), members, events.
  var KIND = 0, ID = 1, NAME = 2, VCENTER = 3, POSITION = 4, ROLE = 5, HOST = 6, CLUSTER = 7,
    POOL = 8, PAIR = 9, MEMBERS = 10, EVENTS = 11;

  // check works a failure's fix steps out without living the plan (fix proves it).
  var FIX_LABEL = "Fix step (suggested, not yet proven): ";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var S = data.strings;
  // Object rows leave out trailing fields that hold nothing: put the defaults back.
  var EMPTY = S.indexOf("");
  var DEFAULTS = [0, 0, 0, 0, 0, EMPTY, EMPTY, EMPTY, EMPTY, -1, [], []];
  var objects = data.objects.map(function (row) {
    for (var i = row.length; i < DEFAULTS.length; i++) row.push(DEFAULTS[i]);
    return row;
  });
  // Result rows leave out their trailing -1s (no next step, no waiver, no fix steps, no
  // baseline mark).
  var compared = document.body.dataset.compared === "1";
  var rowLength = compared ? 9 : 8;
  data.results.forEach(function (row) {
    while (row.length < rowLength) row.push(-1);
  });
  var waivers = data.waivers;
  // Each rule's [title, urgency] (string indexes).
  var ruleInfo = data.rules;
  var multi = document.body.dataset.multi === "1";
  var lowered = null;

  // Worst status first, then errors before warnings before info, then document order.
  function rowOrder(a, b) {
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  }
  function ranked(indexes) {
    return indexes
      .map(function (i) {
        var row = data.results[i];
        return [RANK[S[row[STATUS]]], SEVERITY_RANK[S[row[SEVERITY]]], i];
      })
      .sort(rowOrder)
      .map(function (x) { return data.results[x[2]]; });
  }
  var rows = ranked(data.results.map(function (row, i) { return i; }));

  // Each object's result indexes, and its counts by status.
  var byObject = objects.map(function () { return []; });
  data.results.forEach(function (row, i) { byObject[row[OBJECT]].push(i); });

  function objectLabel(o) {
    var obj = objects[o];
    return S[obj[KIND]] + " " + S[obj[NAME]];
  }

  // Put text into an element. A long token (an EventEx id such as
  // com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent, a path, a user name) gets line-break
  // opportunities after its separators, so a narrow screen breaks it there, never inside a word.
  var LONG_TOKEN = /\S{24,}/;
  function setText(el, text) {
    text = String(text);
    if (!LONG_TOKEN.test(text)) {
      el.textContent = text;
      return;
    }
    text.split(/(?<=[.\/\\_@:])/).forEach(function (part, i) {
      if (i) el.appendChild(document.createElement("wbr"));
      el.appendChild(document.createTextNode(part));
    });
  }

  function element(tag, text, className) {
    var el = document.createElement(tag);
    if (text !== undefined && text !== null) setText(el, text);
    if (className) el.className = className;
    return el;
  }

  function chip(status) {
    return element("span", status, "chip st-" + (status in RANK ? status : "unknown"));
  }

  function objectLink(o, text) {
    var a = element("a", text === undefined ? objectLabel(o) : text, "object");
    a.href = "#o" + o;
    return a;
  }

  // A table cell; the label is what the cell is called when the narrow layout stacks it.
  function cell(tr, label, content) {
    var td = document.createElement("td");
    td.dataset.label = label;
    if (content instanceof Node) td.appendChild(content);
    else setText(td, content);
    tr.appendChild(td);
    return td;
  }

  // A finding of a rule about events (a migration, a revert) shows the object's latest
  // events under its message: when, and from which host to which.
  function eventsOf(row) {
    var info = ruleInfo[S[row[RULE]]];
    var status = S[row[STATUS]];
    if (!info || S[info[1]] !== "happened" || (status !== "fail" && status !== "unknown")) {
      return [];
    }
    return objects[row[OBJECT]][EVENTS].slice(0, 3);
  }

  function labelled(label, text, className) {
    var span = element("span", null, className);
    span.appendChild(element("b", label));
    span.appendChild(document.createTextNode(text));
    return span;
  }

  function messageContent(row, withEvents) {
    var step = row[STEP];
    var fix = row[FIX];
    var events = withEvents ? eventsOf(row) : [];
    if (step < 0 && fix < 0 && !events.length) return S[row[MESSAGE]];
    var fragment = document.createDocumentFragment();
    fragment.appendChild(element("span", S[row[MESSAGE]]));
    events.forEach(function (e) { fragment.appendChild(element("span", S[e], "event")); });
    if (step >= 0) fragment.appendChild(labelled("Next step: ", S[step], "next"));
    if (fix >= 0) fragment.appendChild(labelled(FIX_LABEL, S[fix], "next fix"));
    return fragment;
  }

  // -- results by rule ------------------------------------------------------------------

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
    var obj = objects[row[OBJECT]];
    if (hits[obj[NAME]] || hits[obj[ID]] || hits[row[MESSAGE]] || hits[row[RULE]] ||
        hits[obj[KIND]] || hits[obj[VCENTER]]) return true;
    if (row[WAIVER] < 0) return false;
    var w = waivers[row[WAIVER]];
    return Boolean(hits[w[0]] || hits[w[1]] || hits[w[2]] || hits[w[3]]);
  }

  function rowElement(row, withWaiver) {
    var tr = document.createElement("tr");
    var status = S[row[STATUS]];
    var obj = objects[row[OBJECT]];
    if (withWaiver) cell(tr, "rule", S[row[RULE]]);
    else cell(tr, "status", chip(status));
    if (compared) {
      var mark = row[BASELINE] >= 0 ? S[row[BASELINE]] : "";
      cell(tr, "baseline", mark ? element("span", mark, "badge bl-" + mark) : "");
    }
    cell(tr, "severity", element("span", S[row[SEVERITY]], "sev"));
    if (multi) cell(tr, "vCenter", S[obj[VCENTER]]);
    cell(tr, "object", objectLink(row[OBJECT]));
    cell(tr, "id", S[obj[ID]]);
    cell(tr, "message", messageContent(row, true));
    if (withWaiver) {
      var w = row[WAIVER] >= 0 ? waivers[row[WAIVER]] : null;
      var labels = ["reason", "owner", "ticket", "expires"];
      for (var i = 0; i < 4; i++) cell(tr, labels[i], w ? S[w[i]] : "");
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
    if (event.target !== search) apply();
  });
  search.addEventListener("input", applySoon);
  groupList.forEach(function (g) {
    g.more.addEventListener("click", function () { g.limit += NEXT_PAGE; draw(g); });
  });

  // -- appliances and pairs -------------------------------------------------------------

  var listSection = document.getElementById("appliances");
  var list = {
    table: document.getElementById("appliance-list"),
    tbody: document.querySelector("#appliance-list tbody"),
    more: listSection.querySelector("button.more"),
    count: document.getElementById("appliance-count"),
    search: document.getElementById("appliance-search"),
    limit: FIRST_PAGE,
    shown: [],
  };

  function counts(o) {
    var byStatus = {};
    byObject[o].forEach(function (i) {
      var status = S[data.results[i][STATUS]];
      byStatus[status] = (byStatus[status] || 0) + 1;
    });
    return byStatus;
  }

  function worst(o) {
    var best = 5;
    byObject[o].forEach(function (i) {
      best = Math.min(best, RANK[S[data.results[i][STATUS]]]);
    });
    return best;
  }

  // Appliances, pairs and every other object with results: "Act now" order first.
  var listed = objects
    .map(function (obj, o) { return o; })
    .filter(function (o) { return S[objects[o][ROLE]] || byObject[o].length; })
    .map(function (o) {
      var position = objects[o][POSITION];
      return [position ? 0 : 1, position || worst(o), S[objects[o][NAME]], o];
    })
    .sort(function (a, b) {
      return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : a[3] - b[3]);
    })
    .map(function (x) { return x[3]; });

  function findingsSummary(o) {
    var byStatus = counts(o);
    var span = document.createElement("span");
    Object.keys(RANK).forEach(function (status) {
      if (!byStatus[status]) return;
      span.appendChild(document.createTextNode(byStatus[status] + " "));
      span.appendChild(chip(status));
      span.appendChild(document.createTextNode(" "));
    });
    if (!span.childNodes.length) span.textContent = "no results";
    return span;
  }

  function listRow(o) {
    var obj = objects[o];
    var tr = document.createElement("tr");
    cell(tr, "object", objectLink(o));
    cell(tr, "role", S[obj[ROLE]]);
    cell(tr, "HA pair", obj[PAIR] >= 0 ? objectLink(obj[PAIR], S[objects[obj[PAIR]][NAME]]) : "");
    cell(tr, "host", S[obj[HOST]]);
    cell(tr, "cluster", S[obj[CLUSTER]]);
    cell(tr, "pool", S[obj[POOL]]);
    cell(tr, "findings", findingsSummary(o));
    return tr;
  }

  function drawList() {
    var query = list.search.value.trim().toLowerCase();
    var hits = stringHits(query);
    list.shown = hits ? listed.filter(function (o) {
      var obj = objects[o];
      return Boolean(hits[obj[NAME]] || hits[obj[ID]] || hits[obj[HOST]] ||
        hits[obj[CLUSTER]] || hits[obj[POOL]] || hits[obj[ROLE]] ||
        (obj[PAIR] >= 0 && hits[objects[obj[PAIR]][NAME]]));
    }) : listed;
    var shown = Math.min(list.limit, list.shown.length);
    var fragment = document.createDocumentFragment();
    for (var i = 0; i < shown; i++) fragment.appendChild(listRow(list.shown[i]));
    list.tbody.replaceChildren(fragment);
    list.table.hidden = shown === 0;
    list.more.hidden = shown >= list.shown.length;
    list.more.textContent = "show " + Math.min(NEXT_PAGE, list.shown.length - shown) + " more";
    list.count.textContent = list.shown.length + " of " + listed.length + " shown" +
      (shown < list.shown.length ? "; the first " + shown + " are listed" : "");
    document.body.dataset.listed = String(Number(document.body.dataset.listed || 0) + 1);
  }

  var listPending = 0;
  list.search.addEventListener("input", function () {
    clearTimeout(listPending);
    listPending = setTimeout(function () { list.limit = FIRST_PAGE; drawList(); }, 120);
  });
  document.getElementById("appliance-filter").addEventListener("submit", function (event) {
    event.preventDefault();
    list.limit = FIRST_PAGE;
    drawList();
  });
  list.more.addEventListener("click", function () { list.limit += NEXT_PAGE; drawList(); });

  // -- one appliance's (or pair's) view ------------------------------------------------

  var dossier = document.getElementById("dossier");

  function findingsTable(indexes) {
    var table = element("table", null, "results");
    var head = table.createTHead().insertRow();
    var labels = ["status", "severity", "rule", "message"];
    if (compared) labels.splice(1, 0, "baseline");
    labels.forEach(function (label) {
      var th = element("th", label);
      th.scope = "col";
      head.appendChild(th);
    });
    var body = table.createTBody();
    ranked(indexes).forEach(function (row) {
      var tr = document.createElement("tr");
      cell(tr, "status", chip(S[row[STATUS]]));
      if (compared) {
        var mark = row[BASELINE] >= 0 ? S[row[BASELINE]] : "";
        cell(tr, "baseline", mark ? element("span", mark, "badge bl-" + mark) : "");
      }
      cell(tr, "severity", element("span", S[row[SEVERITY]], "sev"));
      var rule = S[row[RULE]];
      cell(tr, "rule", rule + (ruleInfo[rule] !== undefined ? " " + S[ruleInfo[rule][0]] : ""));
      var message = cell(tr, "message", messageContent(row, false));
      if (row[WAIVER] >= 0) {
        var w = waivers[row[WAIVER]];
        message.appendChild(element("span", "Waived: " + S[w[0]] + " (owner " + S[w[1]] +
          ", ticket " + S[w[2]] + ", expires " + S[w[3]] + ")", "next"));
      }
      body.appendChild(tr);
    });
    return table;
  }

  function fact(dl, label, content) {
    var div = document.createElement("div");
    div.appendChild(element("dt", label));
    var dd = document.createElement("dd");
    if (content instanceof Node) dd.appendChild(content);
    else setText(dd, content);
    div.appendChild(dd);
    dl.appendChild(div);
  }

  function memberContent(m) {
    var span = document.createElement("span");
    span.appendChild(objectLink(m, S[objects[m][NAME]]));
    var facts = [S[objects[m][ROLE]], S[objects[m][HOST]]].filter(Boolean);
    if (facts.length) span.appendChild(document.createTextNode(" (" + facts.join(", ") + ")"));
    return span;
  }

  function findingsSection(title, o) {
    var fragment = document.createDocumentFragment();
    fragment.appendChild(element("h4", title + " (" + byObject[o].length + ")"));
    if (byObject[o].length) fragment.appendChild(findingsTable(byObject[o]));
    else fragment.appendChild(element("p", "No results.", "legend"));
    return fragment;
  }

  function showObject(o) {
    var obj = objects[o];
    var role = S[obj[ROLE]];
    var article = element("article", null, "dossier");
    var heading = element("h3", objectLabel(o));
    heading.id = "dossier-h";
    heading.tabIndex = -1;
    article.setAttribute("aria-labelledby", "dossier-h");
    article.appendChild(heading);
    if (obj[POSITION]) {
      var place = element("p", "", "act-place");
      place.appendChild(document.createTextNode("Number " + obj[POSITION] + " in "));
      var back = element("a", "Act now");
      back.href = "#act-now";
      place.appendChild(back);
      article.appendChild(place);
    }
    var dl = element("dl", null, "facts");
    if (role && role !== "pair") fact(dl, "role", role);
    if (obj[PAIR] >= 0) fact(dl, "HA pair", objectLink(obj[PAIR], S[objects[obj[PAIR]][NAME]]));
    obj[MEMBERS].forEach(function (m) {
      fact(dl, role === "pair" ? "member" : "partner", memberContent(m));
    });
    if (S[obj[HOST]]) fact(dl, "host", S[obj[HOST]]);
    if (S[obj[CLUSTER]]) fact(dl, "cluster", S[obj[CLUSTER]]);
    if (S[obj[POOL]]) fact(dl, "pool", S[obj[POOL]]);
    if (S[obj[VCENTER]]) fact(dl, "vCenter", S[obj[VCENTER]]);
    fact(dl, "id", S[obj[ID]]);
    article.appendChild(dl);
    if (obj[EVENTS].length) {
      article.appendChild(element("h4", "Events"));
      var ul = element("ul", null, "events");
      obj[EVENTS].forEach(function (e) { ul.appendChild(element("li", S[e])); });
      article.appendChild(ul);
    }
    article.appendChild(findingsSection("Results", o));
    if (obj[PAIR] >= 0) {
      article.appendChild(findingsSection("Results of its HA pair " +
        S[objects[obj[PAIR]][NAME]], obj[PAIR]));
    }
    if (role === "pair") {
      obj[MEMBERS].forEach(function (m) {
        article.appendChild(findingsSection("Results of " + objectLabel(m), m));
      });
    }
    dossier.replaceChildren(article);
    dossier.hidden = false;
    dossier.dataset.object = String(o);
    heading.focus({ preventScroll: true });
    dossier.scrollIntoView();
    document.body.dataset.shown = String(Number(document.body.dataset.shown || 0) + 1);
  }

  function route() {
    var match = /^#o(\d+)$/.exec(location.hash);
    if (match && Number(match[1]) < objects.length) showObject(Number(match[1]));
  }
  window.addEventListener("hashchange", route);
  // A link to the object already in the address changes no hash: show it again all the same.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#o']");
    if (link && link.getAttribute("href") === location.hash) route();
  });

  apply();
  drawList();
  route();
  document.body.dataset.ready = "1";
})();
