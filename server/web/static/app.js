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

  function cell(term) {
    var td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      td.appendChild(el("a", term.value, { href: term.value }));
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) td.appendChild(el("small", "@" + term["xml:lang"]));
      else if (term.datatype) td.title = term.datatype;
    }
    return td;
  }

  function showTable(doc) {
    if (typeof doc.boolean === "boolean") {
      output.appendChild(el("p", String(doc.boolean), { "class": "boolean" }));
      return 1;
    }
    var vars = doc.head.vars, rows = doc.results.bindings;
    var wrap = el("div", null, { "class": "table-wrap" });
    var table = el("table"), head = el("tr"), body = el("tbody");
    vars.forEach(function (v) { head.appendChild(el("th", v)); });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    rows.forEach(function (row) {
      var tr = el("tr");
      vars.forEach(function (v) { tr.appendChild(cell(row[v])); });
      body.appendChild(tr);
    });
    table.appendChild(body); wrap.appendChild(table); output.appendChild(wrap);
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
