// The live preview's client, injected by `briefgen serve` into every HTML page it serves
// (never into built files). It listens to the server's events; after a rebuild that
// changed this page it fetches the page again and swaps the body in (or reloads), and
// after a failed one it shows the errors over the last good version.
(function () {
  "use strict";
  var state = JSON.parse(document.getElementById("briefgen-live-state").textContent);
  var version = state.version, base = state.base;
  function hide() {
    var old = document.getElementById(state.id);
    if (old) old.parentNode.removeChild(old);
  }
  function show(errors) {
    hide();
    var box = document.createElement("div"), title = document.createElement("strong");
    var text = document.createElement("pre"), close = document.createElement("button");
    box.id = state.id; box.setAttribute("role", "alert"); box.setAttribute("style", state.style);
    close.type = "button"; close.textContent = "Dismiss";
    close.setAttribute("style", state.button);
    close.onclick = hide;
    title.textContent = state.title;
    text.setAttribute("style", state.pre); text.textContent = errors.join("\n");
    box.appendChild(close); box.appendChild(title); box.appendChild(text);
    first(box);
  }
  // The overlay first in the page, so that its Dismiss button comes first in the tab order.
  function first(box) { document.body.insertBefore(box, document.body.firstChild); }
  var served = document.getElementById(state.id);
  if (served) first(served);
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";
  // Where the keyboard was, found again in the body swapped in: by id, else by its place
  // among the focusable elements.
  function focusPlace() {
    var active = document.activeElement;
    if (!active || active === document.body) return null;
    if (active.id) return { id: active.id };
    return { index: Array.prototype.indexOf.call(document.body.querySelectorAll(FOCUSABLE), active) };
  }
  function refocus(place) {
    if (!place) return;
    var found = place.id ? document.getElementById(place.id)
      : place.index >= 0 ? document.body.querySelectorAll(FOCUSABLE)[place.index] : null;
    if (found) found.focus({ preventScroll: true });
  }
  function decoded(path) {
    try { return decodeURIComponent(path); } catch (e) { return path; }
  }
  function here() { return decoded(location.pathname); }
  // The changed pages' paths as the server writes them (a base path of other scripts
  // percent-encoded), read as this page's is.
  function shown(changed) { return changed.map(decoded).indexOf(here()) >= 0; }
  function reload() { disconnect(); location.reload(); }
  function others(doc) { return doc.querySelectorAll("script:not([data-briefgen])").length; }
  // Fetch the page again and swap its body in: faster than a reload, keeps the scroll
  // position, and no flash. Anything else (the head changed, a status other than the one
  // shown, scripts of the theme, a network error) falls back to a full reload.
  var latest = 0, current = [];
  function update(target) {
    var ticket = ++latest;
    fetch(location.href, {cache: "no-store", credentials: "same-origin"}).then(function (r) {
      if (r.status !== state.status) throw new Error("status " + r.status);
      return r.text();
    }).then(function (text) {
      if (ticket !== latest) return;
      var doc = new DOMParser().parseFromString(text, "text/html");
      if (doc.head.innerHTML !== document.head.innerHTML || others(doc) || others(document)) {
        throw new Error("more than the body changed");
      }
      var drop = doc.querySelectorAll("script[data-briefgen], #" + state.id), i;
      for (i = 0; i < drop.length; i++) drop[i].parentNode.removeChild(drop[i]);
      var body = document.body, names = [];
      for (i = 0; i < body.attributes.length; i++) names.push(body.attributes[i].name);
      names.forEach(function (name) { body.removeAttribute(name); });
      for (i = 0; i < doc.body.attributes.length; i++) {
        body.setAttribute(doc.body.attributes[i].name, doc.body.attributes[i].value);
      }
      var nodes = Array.prototype.slice.call(doc.body.childNodes);  // a copy: adopting moves
      var place = focusPlace();
      body.replaceChildren.apply(body, nodes.map(function (n) { return document.adoptNode(n); }));
      refocus(place);
      version = target;
      if (current.length) show(current);
    }).catch(reload);
  }
  function built(event) {
    var news = JSON.parse(event.data);
    current = news.errors;
    if (news.errors.length) { show(news.errors); return; }
    hide();
    if (news.version === version) return;
    if (news.base !== base && location.pathname.indexOf(base) === 0) {
      disconnect();
      location.replace(news.base + location.pathname.slice(base.length) + location.search);
      return;
    }
    if (news.assets) { reload(); return; }  // a style sheet or image the head names as before
    if (news.changed === null || state.notFound || shown(news.changed)) {
      update(news.version);
      return;
    }
    version = news.version;
  }
  // A browser opens at most six connections to one host over HTTP/1.1, and each stream
  // holds one: a seventh tab of the preview would wait for ever. So only a tab being
  // looked at listens; one shown again reconnects, and the state sent first on every
  // connection (its `changed` null) brings the page up to date if a rebuild came meanwhile.
  var source = null;
  function connect() {
    if (source) return;
    source = new EventSource(state.events);
    source.addEventListener("build", built);
  }
  function disconnect() {
    if (!source) return;
    source.close();
    source = null;
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) disconnect(); else connect();
  });
  if (!document.hidden) connect();
})();
