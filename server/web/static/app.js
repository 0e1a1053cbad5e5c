// The query page: run the query with fetch, show the results as a table, offer downloads.
// Plain JavaScript, no libraries, nothing fetched from other sites.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var editor = document.getElementById("query");
  var picker = document.getElementById("stored");
  var storedLink = document.getElementById("stored-link");
  var storedDescription = document.getElementById("stored-description");
  var status = document.getElementById("status");
  var downloads = document.getElementById("downloads");
  var output = document.getElementById("output");
  var stored = JSON.parse(document.getElementById("stored-queries").textContent);
  var formats = JSON.parse(document.getElementById("download-formats").textContent);
  var endpoint = form.getAttribute("action");

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    return node;
  }

  var links = JSON.parse(document.getElementById("link-settings").textContent);
  var NUMERIC = /#(integer|int|long|short|decimal|double|float|nonNegativeInteger|positiveInteger)$/;

  // Our identifiers link to their pages (where the canonical base is served); others to themselves.
  function href(iri) {
    return iri.indexOf(links.base) === 0 ? links.site + iri.slice(links.base.length) : iri;
  }

  function number(text) {
    var n = Number(text);
    if (!isFinite(n) || text.trim() === "") return text;
    return n.toLocaleString("en-US", { maximumFractionDigits: 20 });
  }

  function cell(term, severalLanguages) {
    var td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      td.appendChild(el("a", term.value, { href: href(term.value), title: term.value, "data-iri": term.value }));
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else if (term.datatype && NUMERIC.test(term.datatype)) {
      td.textContent = number(term.value);
      td.className = "number";
      td.title = term.datatype;
    } else {
      td.textContent = term.value;
      if (term["xml:lang"] && severalLanguages) td.appendChild(el("small", " @" + term["xml:lang"]));
      else if (term.datatype) td.title = term.datatype;
    }
    return td;
  }

  // Put each IRI's label on its links: one SELECT of the labels, sent to the same endpoint.
  function addLabels(container) {
    var anchors = container.querySelectorAll("a[data-iri]"), seen = {}, iris = [];
    Array.prototype.forEach.call(anchors, function (a) {
      var iri = a.getAttribute("data-iri");
      if (!seen[iri] && iris.length < 1000 && !/[<>"{}|^`\\ ]/.test(iri)) { seen[iri] = true; iris.push(iri); }
    });
    if (!iris.length) return;
    var query = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?iri ?label WHERE { VALUES ?iri { " +
      iris.map(function (i) { return "<" + i + ">"; }).join(" ") + " }\n  GRAPH ?g { ?iri rdfs:label ?label } " +
      "FILTER (?g != <" + links.base + "graph/inferred>) }";
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json" },
      body: new URLSearchParams({ query: query }).toString()
    }).then(function (response) { return response.ok ? response.json() : null; }).then(function (doc) {
      if (!doc) return;
      var labels = {};
      doc.results.bindings.forEach(function (row) {
        var lang = row.label["xml:lang"] || "";
        var known = labels[row.iri.value];
        if (!known || (lang === "en" && known.lang !== "en")) labels[row.iri.value] = { text: row.label.value, lang: lang };
      });
      Array.prototype.forEach.call(anchors, function (a) {
        var label = labels[a.getAttribute("data-iri")];
        if (label) a.textContent = label.text;
      });
    }).catch(function () { /* the IRIs stay as they are */ });
  }

  function showTable(doc) {
    if (typeof doc.boolean === "boolean") {
      output.appendChild(el("p", String(doc.boolean), { "class": "boolean" }));
      return 1;
    }
    var vars = doc.head.vars, rows = doc.results.bindings;
    var wrap = el("div", null, { "class": "table-wrap" });
    var table = el("table"), head = el("tr"), body = el("tbody");
    var several = {};  // a language tag only in columns holding several languages
    vars.forEach(function (v) {
      head.appendChild(el("th", v, { scope: "col" }));
      var languages = {};
      rows.forEach(function (row) { if (row[v] && row[v]["xml:lang"]) languages[row[v]["xml:lang"]] = true; });
      several[v] = Object.keys(languages).length > 1;
    });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    rows.forEach(function (row) {
      var tr = el("tr");
      vars.forEach(function (v) { tr.appendChild(cell(row[v], several[v])); });
      body.appendChild(tr);
    });
    table.appendChild(body); wrap.appendChild(table); output.appendChild(wrap);
    addLabels(wrap);
    return rows.length;
  }

  function showDownloads(kind) {
    downloads.textContent = "Download: ";
    formats[kind].forEach(function (f) {
      var params = new URLSearchParams({ query: editor.value, format: f.name });
      downloads.appendChild(el("a", f.label, { href: endpoint + "?" + params.toString() }));
      downloads.appendChild(document.createTextNode(" "));
    });
    downloads.hidden = false;
  }

  function showError(text) {
    var problem;
    try { problem = JSON.parse(text); } catch (e) { problem = { message: text }; }
    var where = problem.where && problem.where.line ? " (line " + problem.where.line +
      (problem.where.column ? ", column " + problem.where.column : "") + ")" : "";
    output.appendChild(el("pre", (problem.message || text) + where, { "class": "error" }));
    if (problem.where && problem.where.line) moveTo(problem.where.line, problem.where.column || 1);
  }

  function moveTo(line, column) {
    var lines = editor.value.split("\n"), offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    editor.focus();
    editor.setSelectionRange(offset + column - 1, offset + column);
  }

  function run(event) {
    if (event) event.preventDefault();
    output.textContent = ""; downloads.hidden = true;
    status.textContent = "Running…";
    var started = performance.now();
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/sparql-results+json, text/turtle;q=0.9, application/json;q=0.8" },
      body: new URLSearchParams({ query: editor.value }).toString()
    }).then(function (response) {
      return response.text().then(function (text) { return { response: response, text: text }; });
    }).then(function (answer) {
      var response = answer.response, seconds = ((performance.now() - started) / 1000).toFixed(2);
      if (!response.ok) {
        status.textContent = "Error " + response.status + " after " + seconds + " s";
        showError(answer.text);
        return;
      }
      var type = response.headers.get("Content-Type") || "";
      var truncated = response.headers.get("X-Karabakh-KG-Truncated");
      var count;
      if (type.indexOf("json") >= 0) {
        count = showTable(JSON.parse(answer.text));
        showDownloads("table");
      } else {
        output.appendChild(el("pre", answer.text, { "class": "graph" }));
        count = response.headers.get("X-Karabakh-KG-Rows");
        showDownloads("graph");
      }
      status.textContent = count + " result" + (count == 1 ? "" : "s") + " in " + seconds + " s" +
        (truncated ? " (truncated to the first " + truncated + ": the server's row limit)" : "");
    }).catch(function (error) {
      status.textContent = "The request failed: " + error;
    });
  }

  picker.addEventListener("change", function () {
    var chosen = stored.filter(function (q) { return q.id === picker.value; })[0];
    storedLink.hidden = !chosen;
    storedDescription.textContent = chosen ? chosen.description : "";
    if (!chosen) return;
    editor.value = chosen.text;
    storedLink.href = chosen.url;
  });
  form.addEventListener("submit", run);
  editor.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run(event);
  });
})();
