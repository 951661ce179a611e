/* Citation popovers for briefgen's default theme.
   A citation marker links to its entry in the Sources list; with this script,
   clicking, tapping or focusing it also shows that source (title, publisher,
   date and, when the page has it, the cited passage) in a small box next to
   the marker. The box follows the marker in the tab order, Escape closes it,
   and screen readers hear it as the marker's description. Pressed from the
   keyboard (Enter), the marker goes to its entry, as the link it is. Without
   the script the marker is an ordinary link to the Sources list. */
(function () {
  "use strict";
  var script = document.currentScript;
  var label = function (name, fallback) {
    return (script && script.getAttribute("data-" + name)) || fallback;
  };
  var box = null;
  var owner = null;
  var restoring = false;

  function close(restoreFocus) {
    if (!box) return;
    var marker = owner;
    box.remove();
    box = null;
    owner = null;
    marker.removeAttribute("aria-describedby");
    marker.setAttribute("aria-expanded", "false");
    if (restoreFocus) {
      restoring = true;
      marker.focus();
      restoring = false;
    }
  }

  function copy(from, selector, into) {
    var found = from.querySelector(selector);
    if (found) into.appendChild(found.cloneNode(true));
  }

  function build(marker, entry, number) {
    var pop = document.createElement("span");
    pop.className = "cite-pop";
    pop.id = "cite-pop";
    pop.setAttribute("role", "note");
    // No aria-label: a name would stand for the box's text where it describes the marker.
    var heading = document.createElement("span");
    heading.className = "cite-pop__number";
    heading.textContent = label("source", "Source {n}").replace("{n}", number);
    pop.appendChild(heading);
    copy(entry, ".source__title", pop);
    copy(entry, ".source__meta", pop);
    // The passage this marker cites, of those the Sources list shows under its source: the
    // one at the marker's locator (its link's title). A marker without one cites the source.
    var locator = marker.getAttribute("title");
    var figures = Array.prototype.filter.call(entry.querySelectorAll(".source__passage"), function (figure) {
      var where = figure.querySelector(".source__passage-locator");
      return locator && where && where.getAttribute("data-locator") === locator;
    });
    for (var i = 0; i < figures.length; i++) {
      var text = figures[i].querySelector("blockquote p");
      var where = figures[i].querySelector(".source__passage-locator");
      var quote = document.createElement("blockquote");
      quote.className = "cite-pop__passage";
      var words = document.createElement("p");
      words.textContent = text ? text.textContent : "";
      quote.appendChild(words);
      if (where && where.getAttribute("data-locator")) {
        var footer = document.createElement("footer");
        footer.textContent = where.getAttribute("data-locator");
        quote.appendChild(footer);
      }
      pop.appendChild(quote);
    }
    if (!figures.length) copy(entry, ".source__locators", pop);
    var footer = document.createElement("span");
    footer.className = "cite-pop__footer";
    var all = document.createElement("a");
    var list = document.getElementById("sources-heading");
    all.href = "#" + (list ? list.id : entry.id);
    all.textContent = label("all", "All sources");
    all.addEventListener("click", function () { close(false); });
    var shut = document.createElement("button");
    shut.type = "button";
    shut.className = "cite-pop__close";
    shut.textContent = label("close", "Close");
    shut.addEventListener("click", function () { close(true); });
    footer.appendChild(all);
    footer.appendChild(shut);
    pop.appendChild(footer);
    return pop;
  }

  function place(marker) {
    var frame = box.offsetParent || document.body;
    var area = frame.getBoundingClientRect();
    var at = marker.getBoundingClientRect();
    var width = box.offsetWidth;
    var left = Math.max(0, Math.min(at.left - area.left - width / 2, area.width - width));
    box.style.left = left + "px";
    box.style.top = (at.bottom - area.top + 6) + "px";
  }

  function open(marker) {
    if (owner === marker) return;
    close(false);
    var number = marker.textContent.trim();
    var entry = document.getElementById(marker.getAttribute("href").slice(1));
    if (!entry) return;
    box = build(marker, entry, number);
    owner = marker;
    // Right after the marker, so Tab moves from the marker into the box.
    var sup = marker.parentNode;
    sup.parentNode.insertBefore(box, sup.nextSibling);
    marker.setAttribute("aria-describedby", box.id);
    marker.setAttribute("aria-expanded", "true");
    place(marker);
  }

  function markerOf(node) {
    return node && node.closest ? node.closest('a[role="doc-noteref"]') : null;
  }

  document.querySelectorAll('a[role="doc-noteref"]').forEach(function (marker) {
    marker.setAttribute("aria-expanded", "false");
  });

  document.addEventListener("click", function (event) {
    var marker = markerOf(event.target);
    if (marker && event.detail === 0) {
      // Enter on a focused marker (a pointer's click counts one or more): follow the link.
      close(false);
    } else if (marker) {
      event.preventDefault();
      open(marker);
    } else if (box && !box.contains(event.target)) {
      close(false);
    }
  });

  document.addEventListener("focusin", function (event) {
    if (restoring) return;
    var marker = markerOf(event.target);
    if (marker) open(marker);
    else if (box && !box.contains(event.target)) close(false);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !box) return;
    // Focus goes back to the marker only from the marker or the box, never from elsewhere on
    // the page, which it would scroll away from.
    var active = document.activeElement;
    close(active === owner || box.contains(active));
  });

  window.addEventListener("resize", function () { if (box) place(owner); });
})();
